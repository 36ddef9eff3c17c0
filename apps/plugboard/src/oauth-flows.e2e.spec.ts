import { createServer } from 'node:http';
import { connect } from 'nats';
import { Subjects, type StoredCredential } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { TEST_NATS_URL, testNamespace } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

/**
 * Every OAuth flow end to end: Plugboard's gateway and apps, a real OAuth 2 authorization server (oidc-provider, in
 * its own process) and a local OAuth 1.0a provider that verifies signatures.
 */
describe('OAuth authorization flows', () => {
  let sys: TestSystem & { publicUrl: string };
  let as: TestAuthorizationServer;
  let provider1: OAuth1Provider;
  let oauth1Base: string;
  let alice: string;
  // The bus's namespace, so a test can watch which requests go over it.
  const namespace = testNamespace();

  beforeAll(async () => {
    sys = await startTestSystem({ PLUGBOARD_RETURN_URL_ORIGINS: 'https://app.example', PLUGBOARD_NAMESPACE: namespace });
    // Hour-long tokens: the token-refresh app's scheduler must not refresh them while the test looks.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    provider1 = new OAuth1Provider({ consumers: [{ key: 'plugboard-consumer', secret: 'consumer-secret-e2e' }] });
    oauth1Base = (await provider1.start()).baseUrl;
    alice = await sys.key('acme', 'member');
    const client = as.clients.basic;
    const oauth2 = { clientId: client.clientId, clientSecret: client.clientSecret, accessTokenUrl: as.tokenUrl, paramType: 'header', scopeDelimiter: 'space' };
    const services = [
      { name: 'Local OAuth', linkName: 'local_oauth', authType: 'oauth2', oauth2: { ...oauth2, grantType: 'authorization_code', authorizeUrl: as.authorizeUrl, scopes: [{ name: 'api:read', displayName: 'Read' }, { name: 'api:write', displayName: 'Write' }] } },
      { name: 'Local machine', linkName: 'local_machine', authType: 'oauth2', oauth2: { ...oauth2, grantType: 'client_credentials', scopes: [{ name: 'api:read', displayName: 'Read' }] } },
      {
        name: 'Local OAuth 1',
        linkName: 'local_oauth1',
        authType: 'oauth1',
        oauth1: { consumerKey: 'plugboard-consumer', consumerSecret: 'consumer-secret-e2e', requestTokenUrl: `${oauth1Base}/oauth/request_token`, authorizeUrl: `${oauth1Base}/oauth/authorize`, accessTokenUrl: `${oauth1Base}/oauth/access_token`, paramType: 'header' },
      },
    ];
    for (const service of services) expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
    for (const [linkName, service] of [['crm', 'local_oauth'], ['machine', 'local_machine'], ['legacy', 'local_oauth1']]) {
      expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service, ...(service === 'local_oauth' ? { scopes: ['api:read'] } : {}) })).status).toBe(201);
    }
  }, 90_000);
  afterAll(async () => {
    await as?.stop();
    await provider1?.stop();
    await sys?.close();
  });

  const credentialOf = async (linkName: string): Promise<StoredCredential> => {
    const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = $1`, [linkName]);
    return (await sys.vaultEntry<StoredCredential>(row.credential_ref, 'acme')) as StoredCredential;
  };
  // The browser that started the flows (sys.call sends its binding cookie), following the provider's redirects.
  const open = (url: string) => fetch(url, { redirect: 'manual', headers: sys.browserHeaders }).then(async (r) => ({ status: r.status, location: r.headers.get('location'), text: await r.text() }));

  it('OAuth 2 authorization code with PKCE: authorize URL, provider consent, callback, tokens in the vault only', async () => {
    const started = await sys.call('POST', '/v1/connections/crm/authorize', alice, {});
    expect(started.status).toBe(200);
    const url = new URL(started.body.authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(as.authorizeUrl);
    expect(url.searchParams.get('redirect_uri')).toBe(`${sys.publicUrl}/v1/oauth/callback`);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe('api:read');
    await as.resetCounters();

    const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
    const page = await open(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl));
    expect(page.status).toBe(200);
    expect(page.text).toContain('Connected');
    expect(await as.tokenRequests()).toBe(1);

    const connection = (await sys.call('GET', '/v1/connections/crm', alice)).body;
    expect(connection).toMatchObject({ status: 'connected', lastAuthorizedAt: expect.any(String) });
    const credential = await credentialOf('crm');
    expect(credential).toMatchObject({ kind: 'oauth2', accessToken: expect.any(String), refreshToken: expect.any(String), expiresAt: expect.any(String) });
    const [authorized] = await sys.sql(`SELECT data FROM events WHERE type = 'ConnectionAuthorized' AND stream_id = 'connection-acme.crm'`);
    expect(authorized.data).toMatchObject({ grantedScopes: ['api:read'], expiresAt: expect.any(String) });
    const everywhere = JSON.stringify(await sys.sql(`SELECT data, metadata FROM events UNION ALL SELECT to_jsonb(k), '{}' FROM connection_credentials k UNION ALL SELECT to_jsonb(o), '{}' FROM oauth_authorizations o`));
    if (credential.kind !== 'oauth2') throw new Error('expected OAuth 2 tokens');
    expect(everywhere).not.toContain(credential.accessToken);
    expect(everywhere).not.toContain(credential.refreshToken);
    expect(everywhere).not.toContain(as.clients.basic.clientSecret);
    expect(everywhere).not.toContain(consent.code);
    const logs = sys.logs();
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of [credential.accessToken, credential.refreshToken as string, as.clients.basic.clientSecret, consent.code as string]) {
      expect(logs.split('\n').filter((line) => line.includes(secret))).toEqual([]);
    }

    // The same callback again (a replay), and a forged state: refused, nothing changes, no token request.
    const replay = await open(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl));
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('unknown, expired or already used');
    const forged = await open(`${sys.publicUrl}/v1/oauth/callback?code=abc&state=${'x'.repeat(43)}`);
    expect(forged.status).toBe(400);
    expect(await as.tokenRequests()).toBe(1);
    expect(await credentialOf('crm')).toEqual(credential);
  }, 60_000);

  it('OAuth 2: a user who denies at the provider gets a clear page, and nothing changes', async () => {
    const before = await credentialOf('crm');
    const started = await sys.call('POST', '/v1/connections/crm/authorize', alice, {});
    const consent = await authorizeBrowserlessly(`${started.body.authorizeUrl}&test_decision=deny`);
    expect(consent.error).toBe('access_denied');
    const page = await open(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl));
    expect(page.status).toBe(403);
    expect(page.text).toContain('denied');
    expect(await credentialOf('crm')).toEqual(before);
    expect((await sys.call('GET', '/v1/connections/crm', alice)).body.status).toBe('connected');
  }, 60_000);

  it('OAuth 2: returns the user to the caller’s return URL with the outcome', async () => {
    const started = await sys.call('POST', '/v1/connections/crm/authorize', alice, { returnUrl: 'https://app.example/settings?tab=connections' });
    const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
    const back = await open(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl));
    expect(back.status).toBe(302);
    expect(back.location).toBe('https://app.example/settings?tab=connections&plugboard_status=connected&connection=crm');
  }, 60_000);

  it('a returnUrl off the allowed origins is 400 return_url_not_allowed, and nothing is stored or asked of a provider', async () => {
    const refused = [
      'https://evil.example/settings',
      '//evil.example/settings',
      '/settings',
      'https://app.example@evil.example/',
      'https://app.example%40evil.example/',
      'https://user@app.example/settings',
      'https://app.example.evil.example/',
      'http://app.example/settings',
      'https://app.example:8443/settings',
      'javascript:alert(document.domain)',
      'data:text/html,<script>alert(1)</script>',
      'https://app.example/\r\nSet-Cookie: a=1',
      'https://app.example/\tx',
      'https://app.example\\@evil.example/',
      'not a url',
    ];
    const pending = async () => (await sys.sql(`SELECT count(*)::int AS n FROM oauth_authorizations`))[0].n;
    const before = { pending: await pending(), requests: provider1.requests.length };
    for (const linkName of ['crm', 'legacy']) {
      for (const returnUrl of refused) {
        const reply = await sys.call('POST', `/v1/connections/${linkName}/authorize`, alice, { returnUrl });
        expect([linkName, returnUrl, reply.status, reply.body.error?.code]).toEqual([linkName, returnUrl, 400, 'return_url_not_allowed']);
        expect(reply.body.error.message).toMatch(/PLUGBOARD_RETURN_URL_ORIGINS/);
      }
    }
    expect(await pending()).toBe(before.pending);
    expect(provider1.requests.length).toBe(before.requests);
    // The gateway's own origin is always allowed, and the allowed origin's other paths too.
    for (const returnUrl of [`${sys.publicUrl}/console`, 'https://app.example/elsewhere#tab']) {
      expect((await sys.call('POST', '/v1/connections/crm/authorize', alice, { returnUrl })).status).toBe(200);
    }
  });

  it('OAuth 2 client credentials: connected at once', async () => {
    const authorized = await sys.call('POST', '/v1/connections/machine/authorize', alice, {});
    expect(authorized.status).toBe(200);
    expect(authorized.body.connection).toMatchObject({ status: 'connected' });
    expect(await credentialOf('machine')).toMatchObject({ kind: 'oauth2', accessToken: expect.any(String), refreshToken: null });
  });

  it('OAuth 1.0a: request token, the provider’s approval, callback with the verifier, access token', async () => {
    const started = await sys.call('POST', '/v1/connections/legacy/authorize', alice, {});
    expect(started.status).toBe(200);
    const approve = await open(`${started.body.authorizeUrl}&approve=1`);
    expect(approve.status).toBe(302);
    expect(approve.location).toMatch(new RegExp(`^${sys.publicUrl}/v1/oauth1/callback\\?oauth_token=.+&oauth_verifier=`));
    const page = await open(approve.location as string);
    expect(page.status).toBe(200);
    expect((await sys.call('GET', '/v1/connections/legacy', alice)).body.status).toBe('connected');
    expect(await credentialOf('legacy')).toMatchObject({ kind: 'oauth1', token: expect.any(String), tokenSecret: expect.any(String) });
    expect((await open(approve.location as string)).status).toBe(400);
    const refused = provider1.requests.filter((r) => r.status >= 400);
    expect(refused).toEqual([]);
  }, 60_000);

  it('OAuth 1.0a: a denial changes nothing', async () => {
    const before = await credentialOf('legacy');
    const started = await sys.call('POST', '/v1/connections/legacy/authorize', alice, {});
    const deny = await open(`${started.body.authorizeUrl}&approve=0`);
    const page = await open(deny.location as string);
    expect(page.status).toBe(403);
    expect(await credentialOf('legacy')).toEqual(before);
  }, 60_000);

  it('OAuth 2: an API answering 401 gets one refresh through the token-refresh app, then one retry', async () => {
    // An API that no longer accepts the first token it sees, as after an early expiry.
    const seen: string[] = [];
    const api = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(req.headers.authorization === seen[0] ? 401 : 200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const apiBase = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
    try {
      const client = as.clients.basic;
      await sys.call('POST', '/v1/services', alice, {
        name: 'Expiring API',
        linkName: 'expiring_api',
        authType: 'oauth2',
        baseUrl: apiBase,
        oauth2: { grantType: 'authorization_code', clientId: client.clientId, clientSecret: client.clientSecret, authorizeUrl: as.authorizeUrl, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
      });
      await sys.call('POST', '/v1/connections', alice, { name: 'Expiring', linkName: 'expiring', service: 'expiring_api' });
      const started = await sys.call('POST', '/v1/connections/expiring/authorize', alice, {});
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      expect((await open(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl))).status).toBe(200);
      const before = await credentialOf('expiring');
      await as.resetCounters();

      const first = await sys.call('POST', '/v1/invoke', alice, { connection: 'expiring', method: 'GET', url: '/me' });
      expect(first.body.status).toBe(200);
      expect(seen).toHaveLength(2);
      expect(seen[1]).not.toBe(seen[0]);
      expect(await as.tokenRequests()).toBe(1);
      const after = await credentialOf('expiring');
      if (before.kind !== 'oauth2' || after.kind !== 'oauth2') throw new Error('expected OAuth 2 tokens');
      expect(seen[1]).toBe(`Bearer ${after.accessToken}`);
      expect(after.refreshToken).not.toBe(before.refreshToken);

      expect((await sys.call('POST', '/v1/invoke', alice, { connection: 'expiring', method: 'GET', url: '/me' })).body.status).toBe(200);
      expect(await as.tokenRequests()).toBe(1);
    } finally {
      await new Promise((resolve) => api.close(resolve));
    }
  }, 60_000);

  it('refuses a predefined OAuth service whose client this deployment has not registered', async () => {
    await sys.call('POST', '/v1/connections', alice, { name: 'GitHub', linkName: 'gh', service: 'github' });
    const refused = await sys.call('POST', '/v1/connections/gh/authorize', alice, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'service_not_configured', message: expect.stringMatching(/No OAuth client is registered for GitHub: an admin of this organization can register its own/) });
  });

  it('reads a connection’s service in the connection app: creating and authorizing one sends no registry.getService request over the bus', async () => {
    const watcher = await connect({ servers: TEST_NATS_URL });
    try {
      const requests = watcher.subscribe(`${namespace}.${Subjects.registry.getService}`);
      await watcher.flush();
      expect((await sys.call('POST', '/v1/connections', alice, { name: 'CRM again', linkName: 'crm_again', service: 'local_oauth', scopes: ['api:read'] })).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections/crm_again/authorize', alice, {})).status).toBe(200);
      // The watcher does see the request when someone does ask the registry.
      expect((await sys.call('GET', '/v1/services/local_oauth', alice)).status).toBe(200);
      await watcher.flush();
      expect(requests.getReceived()).toBe(1);
    } finally {
      await watcher.close();
    }
  });
});
