import { CreateServiceInputSchema, DomainError, LinkNameSchema, parseOrThrow } from './index';

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
});
