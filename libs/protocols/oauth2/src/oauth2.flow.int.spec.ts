// The client against a real authorization server: oidc-provider in a child process (see src/testing).
import { inspect } from 'node:util';

import {
  buildAuthorizationRequest,
  clientCredentials,
  exchangeCode,
  OAuth2Error,
  parseAuthorizationResponse,
  refresh,
  revoke,
  ScopeDelimiter,
  TokenSet,
} from './index';
import { authorizeBrowserlessly, startAuthorizationServer, TestAuthorizationServer, TestClient } from './testing';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const ACCESS_TOKEN_TTL = 120;

let server: TestAuthorizationServer;

beforeAll(async () => {
  server = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], accessTokenTtlSeconds: ACCESS_TOKEN_TTL });
});
afterAll(() => server?.stop());

const local = () => ({ issuer: server.issuer, allowInsecureLocalhost: true });

/** Authorization request → browserless login and consent → callback validation → code exchange. */
async function connect(
  client: TestClient,
  options: { scopes?: string[]; scopeDelimiter?: ScopeDelimiter; issuer?: string | null } = {},
): Promise<{ tokens: TokenSet; code: string; codeVerifier: string }> {
  const request = await buildAuthorizationRequest({
    authorizeUrl: server.authorizeUrl,
    clientId: client.clientId,
    redirectUri: REDIRECT_URI,
    scopes: options.scopes ?? ['openid', 'offline_access', 'api:read', 'api:write'],
    scopeDelimiter: options.scopeDelimiter ?? 'space',
    pkce: true,
    allowInsecureLocalhost: true,
  });
  const callback = await authorizeBrowserlessly(request.url);
  const issuer = options.issuer === null ? undefined : server.issuer;
  const { code } = parseAuthorizationResponse({ callback: callback.callbackUrl, expectedState: request.state, issuer });
  const tokens = await exchangeCode({
    ...client,
    ...local(),
    issuer,
    tokenUrl: server.tokenUrl,
    redirectUri: REDIRECT_URI,
    code,
    codeVerifier: request.codeVerifier,
  });
  return { tokens, code, codeVerifier: request.codeVerifier as string };
}

async function failure(promise: Promise<unknown>, secrets: string[]): Promise<OAuth2Error> {
  const err = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuth2Error);
  const renderings = [String(err), (err as Error).stack ?? '', JSON.stringify(err), inspect(err, { showHidden: true, depth: 20 })];
  for (const rendering of renderings) {
    for (const secret of secrets) expect(rendering).not.toContain(secret);
  }
  return err as OAuth2Error;
}

describe.each(['basic', 'post'] as const)('authorization code + PKCE with client_secret_%s', (name) => {
  const client = () => server.clients[name];

  it('connects: one token request, an access token, a refresh token, the granted scopes and a verified ID token', async () => {
    await server.resetCounters();
    const before = Date.now();
    const { tokens } = await connect(client());

    expect(await server.tokenRequests()).toBe(1);
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.tokenType).toBe('bearer');
    expect(tokens.scopes).toEqual(expect.arrayContaining(['openid', 'api:read', 'api:write']));
    expect(tokens.idToken).toEqual(expect.any(String));
    const expiresAt = Date.parse(tokens.expiresAt as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + (ACCESS_TOKEN_TTL - 2) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + ACCESS_TOKEN_TTL * 1000 + 1000);
    expect(JSON.stringify(tokens.raw)).not.toContain(tokens.accessToken);
    expect(tokens.raw).toMatchObject({ token_type: 'bearer', expires_in: expect.any(Number) });
  });

  it('refreshes with rotation; the old refresh token then fails with invalid_grant', async () => {
    const { tokens } = await connect(client());
    const first = tokens.refreshToken as string;

    await server.resetCounters();
    const refreshed = await refresh({ ...client(), ...local(), tokenUrl: server.tokenUrl, refreshToken: first });
    expect(await server.tokenRequests()).toBe(1);
    expect(refreshed.refreshTokenRotated).toBe(true);
    expect(refreshed.refreshToken).not.toBe(first);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);

    const err = await failure(refresh({ ...client(), ...local(), tokenUrl: server.tokenUrl, refreshToken: first }), [first, client().clientSecret]);
    expect(err).toMatchObject({ kind: 'invalid_grant', error: 'invalid_grant', status: 400, operation: 'refresh' });
    expect(err.isDefinitive).toBe(true);
  });

  it('a wrong client secret fails with invalid_client', async () => {
    const wrong = { ...client(), clientSecret: 'wrong-secret-0123456789' };
    const err = await failure(clientCredentials({ ...wrong, ...local(), tokenUrl: server.tokenUrl, scopes: ['api:read'] }), [wrong.clientSecret, client().clientSecret]);
    expect(err).toMatchObject({ kind: 'invalid_client', error: 'invalid_client', status: 401 });
  });
});

describe('authorization code details', () => {
  const client = () => server.clients.basic;

  it('a code can be exchanged once', async () => {
    const { code, codeVerifier } = await connect(client());
    const err = await failure(
      exchangeCode({ ...client(), ...local(), tokenUrl: server.tokenUrl, redirectUri: REDIRECT_URI, code, codeVerifier }),
      [code, codeVerifier, client().clientSecret],
    );
    expect(err.kind).toBe('invalid_grant');
  });

  it('a wrong PKCE verifier fails with invalid_grant, without echoing code or verifier', async () => {
    const request = await buildAuthorizationRequest({
      authorizeUrl: server.authorizeUrl,
      clientId: client().clientId,
      redirectUri: REDIRECT_URI,
      scopes: ['api:read'],
      scopeDelimiter: 'space',
      pkce: true,
      allowInsecureLocalhost: true,
    });
    const { code } = parseAuthorizationResponse({ callback: (await authorizeBrowserlessly(request.url)).callbackUrl, expectedState: request.state });
    const wrongVerifier = 'x'.repeat(43);
    const err = await failure(
      exchangeCode({ ...client(), ...local(), tokenUrl: server.tokenUrl, redirectUri: REDIRECT_URI, code, codeVerifier: wrongVerifier }),
      [code, wrongVerifier, client().clientSecret],
    );
    expect(err.kind).toBe('invalid_grant');
  });

  it('the server requires PKCE: a request without it comes back as an error', async () => {
    const request = await buildAuthorizationRequest({
      authorizeUrl: server.authorizeUrl,
      clientId: client().clientId,
      redirectUri: REDIRECT_URI,
      scopes: ['api:read'],
      scopeDelimiter: 'space',
      pkce: false,
      allowInsecureLocalhost: true,
    });
    const callback = await authorizeBrowserlessly(request.url);
    expect(callback.error).toBe('invalid_request');
    expect(() => parseAuthorizationResponse({ callback: callback.params, expectedState: request.state, issuer: server.issuer })).toThrow(
      expect.objectContaining({ kind: 'protocol', error: 'invalid_request' }),
    );
  });

  it('the plus delimiter reaches the server as a scope list', async () => {
    const { tokens } = await connect(client(), { scopes: ['openid', 'api:read', 'api:write'], scopeDelimiter: 'plus' });
    expect(tokens.scopes).toEqual(expect.arrayContaining(['openid', 'api:read', 'api:write']));
  });

  it('without a configured issuer the ID token is passed through unverified and iss is not checked', async () => {
    const { tokens } = await connect(client(), { issuer: null });
    expect(tokens.idToken).toEqual(expect.any(String));
  });

  it('a denied authorization comes back as access_denied', async () => {
    const request = await buildAuthorizationRequest({
      authorizeUrl: server.authorizeUrl,
      clientId: client().clientId,
      redirectUri: REDIRECT_URI,
      scopes: ['openid', 'api:read'],
      scopeDelimiter: 'space',
      pkce: true,
      extraParams: { test_decision: 'deny' },
      allowInsecureLocalhost: true,
    });
    const callback = await authorizeBrowserlessly(request.url);
    expect(callback.code).toBeNull();
    const err = (() => {
      try {
        parseAuthorizationResponse({ callback: callback.callbackUrl, expectedState: request.state, issuer: server.issuer });
      } catch (e) {
        return e as OAuth2Error;
      }
      throw new Error('expected access_denied');
    })();
    expect(err).toMatchObject({ kind: 'access_denied', error: 'access_denied', errorDescription: 'End-User denied the request' });
    expect(err.isDefinitive).toBe(true);
  });
});

describe('client credentials', () => {
  it.each(['basic', 'post'] as const)('issues an access token for the requested scopes (client_secret_%s)', async (name) => {
    await server.resetCounters();
    const tokens = await clientCredentials({ ...server.clients[name], ...local(), tokenUrl: server.tokenUrl, scopes: ['api:read', 'api:write'] });
    expect(await server.tokenRequests()).toBe(1);
    expect(tokens).toMatchObject({ tokenType: 'bearer', refreshToken: null, idToken: null, scopes: ['api:read', 'api:write'] });
    expect(tokens.expiresAt).not.toBeNull();
  });
});

describe('revocation', () => {
  const client = () => server.clients.post;

  it('revoking the refresh token ends the grant: refreshing then fails with invalid_grant', async () => {
    const { tokens } = await connect(client());
    const refreshToken = tokens.refreshToken as string;
    await revoke({ ...client(), ...local(), revokeUrl: server.revokeUrl, token: refreshToken, tokenTypeHint: 'refresh_token' });
    expect(await server.revocationRequests()).toBeGreaterThanOrEqual(1);

    const err = await failure(refresh({ ...client(), ...local(), tokenUrl: server.tokenUrl, refreshToken }), [refreshToken, client().clientSecret]);
    expect(err.kind).toBe('invalid_grant');
  });

  it('revoking an access token (or an unknown one) succeeds', async () => {
    const { tokens } = await connect(client());
    await revoke({ ...client(), ...local(), revokeUrl: server.revokeUrl, token: tokens.accessToken, tokenTypeHint: 'access_token' });
    await revoke({ ...client(), ...local(), revokeUrl: server.revokeUrl, token: 'not-a-token' });
  });

  it('revoking with a wrong secret fails with invalid_client', async () => {
    const wrong = { ...client(), clientSecret: 'wrong-secret-9876543210' };
    const err = await failure(revoke({ ...wrong, ...local(), revokeUrl: server.revokeUrl, token: 'some-token-value' }), [wrong.clientSecret, 'some-token-value']);
    expect(err.kind).toBe('invalid_client');
  });
});
