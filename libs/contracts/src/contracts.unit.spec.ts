import { CreateServiceInputSchema, DomainError, EditServiceInputSchema, LinkNameSchema, parseOrThrow } from './index';

describe('contracts', () => {
  it('accepts link names by the seed rules: a lowercase letter first, then lowercase, digits, underscores, 50 at most', () => {
    for (const good of ['a', 'zoho_crm', 'x1', `a${'b'.repeat(49)}`]) expect(LinkNameSchema.safeParse(good).success).toBe(true);
    for (const bad of ['', '1abc', '_a', 'Abc', 'a-b', 'a b', `a${'b'.repeat(50)}`]) expect(LinkNameSchema.safeParse(bad).success).toBe(false);
  });

  it('turns a bad payload into validation_failed with a sentence naming each field', () => {
    let error: unknown;
    try {
      parseOrThrow(CreateServiceInputSchema, { name: 'x'.repeat(51), linkName: 'Bad', authType: 'basic', baseUrl: 'ftp://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    const { code, message, details } = (error as DomainError).toBody();
    expect(code).toBe('validation_failed');
    expect(details?.map((d) => d.path).sort()).toEqual(['baseUrl', 'linkName', 'name']);
    expect(message).toMatch(/^The request is not valid\. .*name: must be 50 characters or fewer/);
  });

  it('refuses unknown fields, so a typo is not silently dropped', () => {
    expect(() => parseOrThrow(CreateServiceInputSchema, { name: 'A', linkName: 'a', authType: 'basic', clientSecrett: 'x' })).toThrow(/clientSecrett/);
  });

  it('defaults the OAuth 2 scope delimiter to comma, as the seed says', () => {
    const parsed = parseOrThrow(CreateServiceInputSchema, {
      name: 'A',
      linkName: 'a',
      authType: 'oauth2',
      oauth2: { grantType: 'client_credentials', clientId: 'c', clientSecret: 's', accessTokenUrl: 'https://a.example/token', paramType: 'header' },
    });
    expect(parsed.authType === 'oauth2' && parsed.oauth2.scopeDelimiter).toBe('comma');
  });

  it('refuses extra OAuth 2 parameters that the client sets itself, naming them', () => {
    const oauth2 = { grantType: 'authorization_code', clientId: 'c', clientSecret: 's', authorizeUrl: 'https://a.example/auth', accessTokenUrl: 'https://a.example/token', paramType: 'header' };
    const create = (extra: object) => parseOrThrow(CreateServiceInputSchema, { name: 'A', linkName: 'a', authType: 'oauth2', oauth2: { ...oauth2, ...extra } });
    expect(() => create({ extraAuthorizeParams: { redirect_uri: 'https://evil.example/cb' } })).toThrow(/oauth2\.extraAuthorizeParams\.redirect_uri: redirect_uri is set by Plugboard itself/);
    expect(() => create({ extraAuthorizeParams: { State: 'x' } })).toThrow(/State is set by Plugboard itself/);
    expect(() => create({ extraTokenParams: { client_secret: 'x' } })).toThrow(/client_secret is set by Plugboard itself/);
    expect(() => create({ extraTokenParams: { 'bad name': 'x' } })).toThrow(/must be a parameter name/);
    expect(() => parseOrThrow(EditServiceInputSchema, { oauth2: { extraTokenParams: { code_verifier: 'x' } } })).toThrow(/code_verifier is set by Plugboard itself/);
    const parsed = create({ extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' }, extraTokenParams: { audience: 'https://api.a.example' } });
    expect(parsed.authType === 'oauth2' && parsed.oauth2.extraAuthorizeParams).toEqual({ access_type: 'offline', prompt: 'consent' });
  });
});
