// The client against a scripted local HTTP server: error classification, Retry-After, timeouts, request
// encoding and the TokenSet shape, for the answers a real authorization server cannot easily be made to give.
import { ServerResponse } from 'node:http';
import { inspect } from 'node:util';

import { clientCredentials, exchangeCode, OAuth2Error, refresh, revoke } from './index';
import { startStubHttpServer, StubHttpServer, StubRequest } from './testing';

const SECRET = 'client-secret-Zm9vYmFyYmF6';
const REFRESH_TOKEN = 'refresh-token-cXV4cXV1eA';
const CODE = 'auth-code-bm9ycG9yZw';
const VERIFIER = 'verifier-aGVsbG93b3JsZGhlbGxvd29ybGQ';
const ALL_SECRETS = [SECRET, REFRESH_TOKEN, CODE, VERIFIER];

type Script = (req: StubRequest, res: ServerResponse) => void;
let script: Script = (_req, res) => res.end();
let server: StubHttpServer;

beforeAll(async () => {
  server = await startStubHttpServer((req, res) => script(req, res));
});
afterAll(() => server.stop());
beforeEach(() => {
  server.requests.length = 0;
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const call = () => ({
  tokenUrl: `${server.url}/token`,
  clientId: 'client-1',
  clientSecret: SECRET,
  clientAuth: 'client_secret_basic' as const,
  allowInsecureLocalhost: true,
});

async function failure(promise: Promise<unknown>): Promise<OAuth2Error> {
  const err = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuth2Error);
  assertNoSecrets(err as OAuth2Error);
  return err as OAuth2Error;
}

function assertNoSecrets(err: OAuth2Error): void {
  const renderings = [String(err), err.message, err.stack ?? '', JSON.stringify(err), inspect(err, { showHidden: true, depth: 20 })];
  for (const rendering of renderings) {
    for (const secret of ALL_SECRETS) expect(rendering).not.toContain(secret);
  }
}

describe('error classification', () => {
  it('503 with Retry-After → transient with retryAfterMs', async () => {
    script = (_req, res) => {
      res.writeHead(503, { 'retry-after': '17', 'content-type': 'text/html' });
      res.end('<h1>maintenance</h1>');
    };
    const err = await failure(refresh({ ...call(), refreshToken: REFRESH_TOKEN }));
    expect(err).toMatchObject({ kind: 'transient', status: 503, retryAfterMs: 17_000, operation: 'refresh' });
    expect(err.isDefinitive).toBe(false);
  });

  it('429 with an HTTP-date Retry-After and a JSON error body → transient, the wait computed with the injected clock', async () => {
    script = (_req, res) => json(res, 429, { error: 'rate_limited' }, { 'retry-after': 'Tue, 01 Jan 2030 00:01:00 GMT' });
    const err = await failure(clientCredentials({ ...call(), now: () => new Date('2030-01-01T00:00:00Z') }));
    expect(err).toMatchObject({ kind: 'transient', status: 429, retryAfterMs: 60_000, error: 'rate_limited' });
  });

  it('429 with a text body → transient', async () => {
    script = (_req, res) => {
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '3' });
      res.end('slow down');
    };
    const err = await failure(clientCredentials(call()));
    expect(err).toMatchObject({ kind: 'transient', status: 429, retryAfterMs: 3_000 });
  });

  it('500 without Retry-After → transient, retryAfterMs null', async () => {
    script = (_req, res) => json(res, 500, { error: 'server_error' });
    const err = await failure(exchangeCode({ ...call(), redirectUri: 'https://app/cb', code: CODE, codeVerifier: VERIFIER }));
    expect(err).toMatchObject({ kind: 'transient', status: 500, retryAfterMs: null });
  });

  it('a hanging server → transient after the timeout', async () => {
    script = () => undefined; // never answers
    const started = Date.now();
    const err = await failure(refresh({ ...call(), refreshToken: REFRESH_TOKEN, timeoutMs: 300 }));
    expect(err).toMatchObject({ kind: 'transient', code: 'TIMEOUT', status: null });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.each([
    ['without an issuer (the ID token is looked for first)', {}],
    ['with an issuer', { issuer: 'https://provider.example' }],
  ])('a body that stops half way → transient after the timeout, %s', async (_label, extra) => {
    script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"');
    };
    const err = await failure(refresh({ ...call(), ...extra, refreshToken: REFRESH_TOKEN, timeoutMs: 300 }));
    expect(err).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
  });

  it('a connection dropped mid-body → transient', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_token":"');
      setTimeout(() => res.destroy(), 20);
    };
    const err = await failure(refresh({ ...call(), issuer: 'https://provider.example', refreshToken: REFRESH_TOKEN }));
    expect(err.kind).toBe('transient');
  });

  it('a refused connection → transient', async () => {
    const closed = await startStubHttpServer((_req, res) => void res.end());
    const url = closed.url;
    await closed.stop();
    const err = await failure(refresh({ ...call(), tokenUrl: `${url}/token`, refreshToken: REFRESH_TOKEN }));
    expect(err).toMatchObject({ kind: 'transient', status: null });
    expect(err.code).toMatch(/ECONNREFUSED|NETWORK/);
  });

  it('400 invalid_grant → invalid_grant, with secrets echoed by the provider redacted', async () => {
    script = (_req, res) => json(res, 400, { error: 'invalid_grant', error_description: `refresh token ${REFRESH_TOKEN} is revoked` });
    const err = await failure(refresh({ ...call(), refreshToken: REFRESH_TOKEN }));
    expect(err).toMatchObject({ kind: 'invalid_grant', error: 'invalid_grant', status: 400, errorDescription: 'refresh token [REDACTED] is revoked' });
    expect(err.isDefinitive).toBe(true);
  });

  it('401 invalid_client with a WWW-Authenticate challenge → invalid_client', async () => {
    script = (_req, res) =>
      json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' }, { 'www-authenticate': 'Basic realm="x", error="invalid_client"' });
    const err = await failure(clientCredentials(call()));
    expect(err).toMatchObject({ kind: 'invalid_client', error: 'invalid_client', errorDescription: 'client authentication failed', status: 401 });
  });

  it('401 with an empty body → invalid_client', async () => {
    script = (_req, res) => {
      res.writeHead(401);
      res.end();
    };
    const err = await failure(clientCredentials(call()));
    expect(err).toMatchObject({ kind: 'invalid_client', status: 401, error: null });
  });

  it('400 unauthorized_client → unauthorized_client; other OAuth errors → protocol', async () => {
    script = (_req, res) => json(res, 400, { error: 'unauthorized_client' });
    expect(await failure(clientCredentials(call()))).toMatchObject({ kind: 'unauthorized_client' });
    script = (_req, res) => json(res, 400, { error: 'invalid_scope' });
    expect(await failure(clientCredentials(call()))).toMatchObject({ kind: 'protocol', error: 'invalid_scope' });
  });

  it('an error inside a 200 response (GitHub style) → classified by its code', async () => {
    script = (_req, res) => json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    const err = await failure(exchangeCode({ ...call(), redirectUri: 'https://app/cb', code: CODE, codeVerifier: null }));
    expect(err).toMatchObject({ kind: 'invalid_grant', error: 'bad_verification_code', status: 200 });
  });

  it('a 200 that is not a token response → protocol', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    };
    expect(await failure(clientCredentials(call()))).toMatchObject({ kind: 'protocol' });
    script = (_req, res) => json(res, 200, { access_token: 'at-1', token_type: 'mac' });
    expect(await failure(clientCredentials(call()))).toMatchObject({ kind: 'protocol' });
  });

  it('a redirect from the token endpoint → protocol (not followed)', async () => {
    script = (_req, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/' });
      res.end();
    };
    expect(await failure(clientCredentials(call()))).toMatchObject({ kind: 'protocol', status: 302 });
  });

  it('http endpoints are refused without allowInsecureLocalhost', async () => {
    const err = await failure(clientCredentials({ ...call(), allowInsecureLocalhost: false }));
    expect(err).toMatchObject({ kind: 'protocol', code: 'INVALID_INPUT' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('requests and token sets', () => {
  it('exchangeCode sends code, verifier and redirect URI with client_secret_basic, and maps the response', async () => {
    script = (_req, res) =>
      json(res, 200, {
        access_token: 'at-1',
        refresh_token: 'rt-1',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'repo,user:email',
        team_id: 'T1',
      });
    const tokens = await exchangeCode({
      ...call(),
      redirectUri: 'https://app/cb',
      code: CODE,
      codeVerifier: VERIFIER,
      extraParams: { resource: 'https://api.example' },
      now: () => new Date('2030-01-01T00:00:00Z'),
    });
    expect(tokens).toEqual({
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      tokenType: 'bearer',
      expiresAt: '2030-01-01T01:00:00.000Z',
      scopes: ['repo', 'user:email'],
      idToken: null,
      raw: { token_type: 'bearer', expires_in: 3600, scope: 'repo,user:email', team_id: 'T1' },
    });

    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/token');
    const body = new URLSearchParams(request.body);
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'authorization_code',
      code: CODE,
      code_verifier: VERIFIER,
      redirect_uri: 'https://app/cb',
      resource: 'https://api.example',
    });
    // RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic; oauth4webapi also escapes `-_.!~*'()`.
    const encode = (value: string) => encodeURIComponent(value).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${encode('client-1')}:${encode(SECRET)}`).toString('base64')}`);
  });

  it('client_secret_post puts the credentials in the body; client credentials scopes use the delimiter', async () => {
    script = (_req, res) => json(res, 200, { access_token: 'at-2', token_type: 'bearer' });
    const tokens = await clientCredentials({ ...call(), clientAuth: 'client_secret_post', scopes: ['a', 'b'], scopeDelimiter: 'comma' });
    expect(tokens).toMatchObject({ accessToken: 'at-2', refreshToken: null, expiresAt: null, scopes: null });
    const [request] = server.requests;
    expect(request.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'a,b',
      client_id: 'client-1',
      client_secret: SECRET,
    });

    await clientCredentials({ ...call(), scopes: ['a', 'b'], scopeDelimiter: 'plus' });
    expect(server.requests[1].body).toContain('scope=a+b');
  });

  it('refresh keeps the presented refresh token when the response has none', async () => {
    script = (_req, res) => json(res, 200, { access_token: 'at-3', token_type: 'bearer', expires_in: 60 });
    const tokens = await refresh({ ...call(), refreshToken: REFRESH_TOKEN });
    expect(tokens).toMatchObject({ accessToken: 'at-3', refreshToken: REFRESH_TOKEN, refreshTokenRotated: false });
    expect(new URLSearchParams(server.requests[0].body).get('refresh_token')).toBe(REFRESH_TOKEN);
  });

  it('refresh returns the new refresh token when the server rotates it', async () => {
    script = (_req, res) => json(res, 200, { access_token: 'at-4', token_type: 'bearer', refresh_token: 'rt-new' });
    expect(await refresh({ ...call(), refreshToken: REFRESH_TOKEN })).toMatchObject({ refreshToken: 'rt-new', refreshTokenRotated: true });
  });

  it('passes an ID token through unverified when no issuer is configured, and verifies it against one', async () => {
    const idToken = [
      Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url'),
      Buffer.from(JSON.stringify({ iss: 'https://accounts.example', aud: 'client-1', sub: 'u1', iat: 1, exp: 4102444800 })).toString('base64url'),
      'c2ln',
    ].join('.');
    script = (_req, res) => json(res, 200, { access_token: 'at-5', token_type: 'bearer', id_token: idToken });
    const tokens = await exchangeCode({ ...call(), redirectUri: 'https://app/cb', code: CODE, codeVerifier: VERIFIER });
    expect(tokens.idToken).toBe(idToken);
    expect(tokens.raw).not.toHaveProperty('id_token');

    const err = await failure(exchangeCode({ ...call(), issuer: 'https://other.example', redirectUri: 'https://app/cb', code: CODE, codeVerifier: VERIFIER }));
    expect(err.kind).toBe('protocol');
    expect(JSON.stringify(err)).not.toContain('at-5');
  });

  it('revoke sends the token and hint, accepts 200 and 204, and classifies failures', async () => {
    script = (_req, res) => {
      res.writeHead(200);
      res.end();
    };
    await revoke({ ...call(), revokeUrl: `${server.url}/revoke`, token: REFRESH_TOKEN, tokenTypeHint: 'refresh_token' });
    expect(Object.fromEntries(new URLSearchParams(server.requests[0].body))).toEqual({ token: REFRESH_TOKEN, token_type_hint: 'refresh_token' });

    script = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    await revoke({ ...call(), revokeUrl: `${server.url}/revoke`, token: REFRESH_TOKEN });

    script = (_req, res) => {
      res.writeHead(503, { 'retry-after': '9' });
      res.end();
    };
    const err = await failure(revoke({ ...call(), revokeUrl: `${server.url}/revoke`, token: REFRESH_TOKEN }));
    expect(err).toMatchObject({ kind: 'transient', retryAfterMs: 9_000, operation: 'revoke' });
  });
});
