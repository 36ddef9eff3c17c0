import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

import {
  buildAuthorizationRequest,
  OAuth2Error,
  parseAuthorizationResponse,
  parseScopes,
  ScopeDelimiter,
} from './index';

const base = {
  authorizeUrl: 'https://provider.example/oauth/authorize',
  clientId: 'client-123',
  redirectUri: 'https://plugboard.example/oauth/callback',
  scopes: ['openid', 'api:read', 'https://www.googleapis.com/auth/drive'],
  scopeDelimiter: 'space' as ScopeDelimiter,
  pkce: true,
};

function rawQueryParam(url: string, name: string): string | undefined {
  const query = new URL(url).search.slice(1);
  return query
    .split('&')
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

async function catchError(fn: () => unknown): Promise<OAuth2Error> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuth2Error);
    return err as OAuth2Error;
  }
  throw new Error('expected an OAuth2Error');
}

describe('buildAuthorizationRequest', () => {
  it('builds a code request with the client, redirect URI, state and an S256 challenge of the verifier', async () => {
    const request = await buildAuthorizationRequest(base);
    const url = new URL(request.url);

    expect(url.origin + url.pathname).toBe('https://provider.example/oauth/authorize');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe('client-123');
    expect(url.searchParams.get('redirect_uri')).toBe('https://plugboard.example/oauth/callback');
    expect(url.searchParams.get('state')).toBe(request.state);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');

    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expectedChallenge = createHash('sha256').update(request.codeVerifier as string).digest('base64url');
    expect(url.searchParams.get('code_challenge')).toBe(expectedChallenge);
  });

  it('makes state 256 random bits, base64url encoded (43 characters), different every time', async () => {
    const states = await Promise.all(Array.from({ length: 200 }, async () => (await buildAuthorizationRequest(base)).state));
    for (const state of states) {
      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(state, 'base64url')).toHaveLength(32);
    }
    expect(new Set(states).size).toBe(states.length);

    // A crude entropy check: over 200 * 43 characters every base64url symbol shows up, none dominates.
    const counts = new Map<string, number>();
    for (const ch of states.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    expect(Math.max(...counts.values())).toBeLessThan((200 * 43) / 64 * 2);
  });

  it('sends no challenge and returns no verifier without PKCE', async () => {
    const request = await buildAuthorizationRequest({ ...base, pkce: false });
    const url = new URL(request.url);
    expect(request.codeVerifier).toBeNull();
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
  });

  it.each([
    ['space', 'openid%20api%3Aread%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive', 'openid api:read https://www.googleapis.com/auth/drive'],
    ['plus', 'openid+api%3Aread+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive', 'openid api:read https://www.googleapis.com/auth/drive'],
    ['comma', 'openid,api%3Aread,https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive', 'openid,api:read,https://www.googleapis.com/auth/drive'],
  ] as const)('joins scopes with the %s delimiter', async (scopeDelimiter, raw, decoded) => {
    const request = await buildAuthorizationRequest({ ...base, scopeDelimiter });
    expect(rawQueryParam(request.url, 'scope')).toBe(raw);
    // What a form-decoding server reads: `+` and `%20` are both a space.
    expect(new URL(request.url).searchParams.get('scope')).toBe(decoded);
  });

  it('omits scope when there is none', async () => {
    const request = await buildAuthorizationRequest({ ...base, scopes: [] });
    expect(new URL(request.url).searchParams.has('scope')).toBe(false);
  });

  it('refuses scopes containing the delimiter or whitespace', async () => {
    for (const [scopeDelimiter, scope] of [
      ['comma', 'a,b'],
      ['plus', 'a+b'],
      ['space', 'a b'],
      ['space', ''],
    ] as const) {
      const err = await catchError(() => buildAuthorizationRequest({ ...base, scopeDelimiter, scopes: [scope] }));
      expect(err.kind).toBe('protocol');
      expect(err.code).toBe('INVALID_INPUT');
    }
  });

  it('keeps query parameters of the authorize URL and adds extra parameters, but not over the built ones', async () => {
    const request = await buildAuthorizationRequest({
      ...base,
      authorizeUrl: 'https://provider.example/authorize?tenant=acme',
      extraParams: { access_type: 'offline', prompt: 'consent' },
    });
    const params = new URL(request.url).searchParams;
    expect(params.get('tenant')).toBe('acme');
    expect(params.get('access_type')).toBe('offline');
    expect(params.get('prompt')).toBe('consent');

    const err = await catchError(() => buildAuthorizationRequest({ ...base, extraParams: { state: 'fixed' } }));
    expect(err.message).toContain('state');
  });

  it('allows http only on loopback hosts and only with allowInsecureLocalhost', async () => {
    await expect(buildAuthorizationRequest({ ...base, authorizeUrl: 'http://127.0.0.1:4000/auth' })).rejects.toMatchObject({ kind: 'protocol', code: 'INVALID_INPUT' });
    await expect(buildAuthorizationRequest({ ...base, authorizeUrl: 'http://127.0.0.1:4000/auth', allowInsecureLocalhost: true })).resolves.toBeDefined();
    await expect(buildAuthorizationRequest({ ...base, authorizeUrl: 'http://provider.example/auth', allowInsecureLocalhost: true })).rejects.toMatchObject({ kind: 'protocol' });
    await expect(buildAuthorizationRequest({ ...base, authorizeUrl: 'ftp://provider.example/auth' })).rejects.toMatchObject({ kind: 'protocol' });
  });
});

describe('parseAuthorizationResponse', () => {
  const callback = 'https://plugboard.example/oauth/callback';

  it('returns the code when the state matches', () => {
    expect(parseAuthorizationResponse({ callback: `${callback}?code=abc123&state=s1`, expectedState: 's1' })).toEqual({ code: 'abc123' });
  });

  it('checks iss when the issuer is known, ignores it otherwise', () => {
    const url = `${callback}?code=abc123&state=s1&iss=${encodeURIComponent('https://evil.example')}`;
    expect(parseAuthorizationResponse({ callback: url, expectedState: 's1' })).toEqual({ code: 'abc123' });
    expect(() => parseAuthorizationResponse({ callback: url, expectedState: 's1', issuer: 'https://provider.example' })).toThrow(OAuth2Error);
  });

  it('rejects a state mismatch as a protocol error, without echoing the code', async () => {
    const err = await catchError(() => parseAuthorizationResponse({ callback: new URL(`${callback}?code=secret-code-1&state=other`), expectedState: 's1' }));
    expect(err.kind).toBe('protocol');
    expect(inspect(err, { showHidden: true, depth: 10 })).not.toContain('secret-code-1');
  });

  it.each([
    ['access_denied', 'access_denied'],
    ['temporarily_unavailable', 'transient'],
    ['unauthorized_client', 'unauthorized_client'],
    ['invalid_scope', 'protocol'],
  ])('maps error=%s to kind %s', async (error, kind) => {
    const err = await catchError(() =>
      parseAuthorizationResponse({ callback: new URLSearchParams({ error, error_description: 'nope', state: 's1' }), expectedState: 's1' }),
    );
    expect(err).toMatchObject({ kind, error, errorDescription: 'nope', operation: 'parseAuthorizationResponse' });
  });
});

describe('helpers', () => {
  it('parses granted scopes with any delimiter', () => {
    expect(parseScopes('a b')).toEqual(['a', 'b']);
    expect(parseScopes('repo,user:email')).toEqual(['repo', 'user:email']);
    expect(parseScopes('a+b  c')).toEqual(['a', 'b', 'c']);
    expect(parseScopes('')).toEqual([]);
  });

  it('serializes OAuth2Error to its fields', () => {
    const err = new OAuth2Error({ kind: 'transient', operation: 'refresh', status: 503, retryAfterMs: 5_000 });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'OAuth2Error',
      kind: 'transient',
      operation: 'refresh',
      message: 'refresh failed (transient) HTTP 503 retry after 5000 ms',
      error: null,
      errorDescription: null,
      status: 503,
      retryAfterMs: 5_000,
      code: null,
    });
    expect(String(err)).toBe('OAuth2Error: refresh failed (transient) HTTP 503 retry after 5000 ms');
    expect(err.isDefinitive).toBe(false);
  });
});
