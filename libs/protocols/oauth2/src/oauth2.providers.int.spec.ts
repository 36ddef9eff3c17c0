// Real providers' habits, against the test authorization server configured to have them: refresh tokens only when
// asked for (prompt=consent and offline_access), extra token parameters, and data in the token response and callback.
import { buildAuthorizationRequest, exchangeCode, parseAuthorizationResponse } from './index';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from './testing';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

let server: TestAuthorizationServer;

beforeAll(async () => {
  server = await startAuthorizationServer({
    redirectUris: [REDIRECT_URI],
    strictRefreshTokens: true,
    tokenResponseExtras: { instance_url: 'https://acme.my.salesforce.com', team: { id: 'T123', name: 'Acme' } },
    callbackExtras: { realmId: '9130357766900456' },
  });
});
afterAll(() => server?.stop());

async function connect(extraAuthorizeParams: Record<string, string>, extraTokenParams: Record<string, string> = {}) {
  const client = server.clients.post;
  const request = await buildAuthorizationRequest({
    authorizeUrl: server.authorizeUrl,
    clientId: client.clientId,
    redirectUri: REDIRECT_URI,
    scopes: ['openid', 'offline_access', 'api:read'],
    scopeDelimiter: 'space',
    pkce: true,
    extraParams: extraAuthorizeParams,
    allowInsecureLocalhost: true,
  });
  const callback = await authorizeBrowserlessly(request.url);
  const { code } = parseAuthorizationResponse({ callback: callback.callbackUrl, expectedState: request.state });
  const tokens = await exchangeCode({ ...client, allowInsecureLocalhost: true, tokenUrl: server.tokenUrl, redirectUri: REDIRECT_URI, code, codeVerifier: request.codeVerifier, extraParams: extraTokenParams });
  return { tokens, callback };
}

describe('a strict provider', () => {
  it('issues no refresh token unless the authorization asks with prompt=consent', async () => {
    expect((await connect({})).tokens.refreshToken).toBeNull();
    expect((await connect({ prompt: 'consent' })).tokens.refreshToken).toEqual(expect.any(String));
  });

  it('receives the extra token parameters with the code exchange', async () => {
    await connect({}, { audience: 'https://api.example.com', organization: 'org_1' });
    expect(await server.lastTokenRequest()).toMatchObject({ grant_type: 'authorization_code', audience: 'https://api.example.com', organization: 'org_1' });
    expect(await server.lastTokenRequest()).not.toHaveProperty('code');
  });

  it('hands over the token response\'s extra fields (without tokens) and the callback\'s extra parameters', async () => {
    const { tokens, callback } = await connect({});
    expect(tokens.raw).toMatchObject({ instance_url: 'https://acme.my.salesforce.com', team: { id: 'T123', name: 'Acme' } });
    expect(JSON.stringify(tokens.raw)).not.toContain(tokens.accessToken);
    expect(callback.params.get('realmId')).toBe('9130357766900456');
  });
});
