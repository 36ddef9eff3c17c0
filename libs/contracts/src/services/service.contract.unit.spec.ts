import { CreateServiceInputSchema, EditServiceInputSchema, MAX_API_KEY_PARAMS } from './service.contract';

const issues = (schema: typeof CreateServiceInputSchema | typeof EditServiceInputSchema, input: object) =>
  schema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
const params = (n: number, paramType = 'header') => Array.from({ length: n }, (_, i) => ({ name: `key_${i}`, displayName: `Key ${i}`, paramType }));
const apiKey = (list: object[]) => ({ name: 'Keys', linkName: 'keys', authType: 'api_key', apiKey: { params: list } });

describe('service input: the seed 004 fields, validated where the owner fills them (issue #19 item 5)', () => {
  it('takes as many API key parameters as a service needs (100), not just 20', () => {
    expect(MAX_API_KEY_PARAMS).toBeGreaterThanOrEqual(100);
    expect(issues(CreateServiceInputSchema, apiKey(params(MAX_API_KEY_PARAMS)))).toEqual([]);
    expect(issues(EditServiceInputSchema, { apiKey: { params: params(MAX_API_KEY_PARAMS) } })).toEqual([]);
    expect(issues(CreateServiceInputSchema, apiKey(params(MAX_API_KEY_PARAMS + 1)))).toEqual([`apiKey.params: at most ${MAX_API_KEY_PARAMS} parameters`]);
  });

  it('refuses a parameter name used twice (one value would go to both), header names whatever their case', () => {
    const twice = [
      { name: 'token', displayName: 'Token', paramType: 'query' },
      { name: 'token', displayName: 'Token again', paramType: 'form' },
    ];
    expect(issues(CreateServiceInputSchema, apiKey(twice))).toEqual(['apiKey.params.1.name: token is already a parameter of this service: each parameter name may be used once']);
    expect(issues(EditServiceInputSchema, { apiKey: { params: twice } })).toHaveLength(1);
    const headers = [
      { name: 'X-Api-Key', displayName: 'Key', paramType: 'header' },
      { name: 'x-api-key', displayName: 'Key', paramType: 'header' },
    ];
    expect(issues(CreateServiceInputSchema, apiKey(headers))).toEqual(['apiKey.params.1.name: x-api-key is already a parameter of this service: each parameter name may be used once']);
    // In a query string or a form, names are case-sensitive: two of them may differ by case only.
    expect(issues(CreateServiceInputSchema, apiKey(headers.map((p) => ({ ...p, paramType: 'query' }))))).toEqual([]);
  });

  it('refuses an authorization-code service without an Authorize URL when it is created', () => {
    const oauth2 = { grantType: 'authorization_code', clientId: 'c', clientSecret: 's', accessTokenUrl: 'https://p.example/token', paramType: 'header' };
    const service = (o: object) => ({ name: 'P', linkName: 'p', authType: 'oauth2', oauth2: { ...oauth2, ...o } });
    expect(issues(CreateServiceInputSchema, service({}))).toEqual(['oauth2.authorizeUrl: is required for the authorization_code grant type']);
    expect(issues(CreateServiceInputSchema, service({ authorizeUrl: 'https://p.example/authorize' }))).toEqual([]);
    expect(issues(CreateServiceInputSchema, service({ grantType: 'client_credentials' }))).toEqual([]);
  });
});
