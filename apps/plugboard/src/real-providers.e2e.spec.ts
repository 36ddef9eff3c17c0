import { createServer, type Server } from 'node:http';
import type { StoredCredential } from '@plugboard/contracts';
import { eventually } from '@plugboard/testing';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { WebhookReceiver } from './test-support/webhook-receiver';

/**
 * Real providers' rules, against a real authorization server (oidc-provider) that has them: refresh tokens only when
 * asked for with prompt=consent (strictRefreshTokens), short-lived access tokens, and extra token parameters seen.
 */
describe('real providers', () => {
  let sys: TestSystem & { publicUrl: string };
  let as: TestAuthorizationServer;
  let alice: string;
  let admin: string;
  let api: Server;
  let apiBase: string;
  const apiCalls: string[] = [];
  const hook = new WebhookReceiver();

  beforeAll(async () => {
    sys = await startTestSystem({
      PLUGBOARD_WEBHOOK_POLL_MS: '50',
      // The deployment-wide default for one predefined service; an org may register its own instead.
      PLUGBOARD_PREDEFINED_CLIENTS: JSON.stringify({ github: { clientId: 'deployment-github-client', clientSecret: 'deployment-github-secret-4e1f' } }),
    });
    // Access tokens live 3 s: long enough to connect, short enough to see one expire.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3, strictRefreshTokens: true });
    alice = await sys.key('acme', 'member');
    admin = await sys.key('acme', 'admin');
    api = createServer((req, res) => {
      apiCalls.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiBase = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
    await hook.start();
    const registered = await sys.call('PUT', '/v1/webhook', admin, { url: hook.url, events: ['ReauthorizationRequired', 'ConnectionRevoked'] });
    expect(registered.status).toBe(200);
    hook.secret = registered.body.secret;
  }, 90_000);
  afterAll(async () => {
    await hook.stop();
    await new Promise((resolve) => api?.close(resolve));
    await as?.stop();
    await sys?.close();
  });

  const oauth2 = (extra: object = {}) => {
    const client = as.clients.basic;
    return {
      grantType: 'authorization_code',
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      authorizeUrl: as.authorizeUrl,
      accessTokenUrl: as.tokenUrl,
      paramType: 'header',
      scopeDelimiter: 'space',
      scopes: [{ name: 'openid', displayName: 'OpenID' }, { name: 'offline_access', displayName: 'Offline access' }, { name: 'api:read', displayName: 'Read' }],
      ...extra,
    };
  };
  const credentialOf = async (linkName: string): Promise<StoredCredential> => {
    const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = $1`, [linkName]);
    return (await sys.vaultEntry<StoredCredential>(row.credential_ref, 'acme')) as StoredCredential;
  };
  /** Creates the connection and goes through the provider's consent and the callback. */
  const connect = async (linkName: string, service: string): Promise<URL> => {
    expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service })).status).toBe(201);
    const started = await sys.call('POST', `/v1/connections/${linkName}/authorize`, alice, {});
    expect(started.status).toBe(200);
    const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
    const page = await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl), { headers: sys.browserHeaders });
    expect(page.status).toBe(200);
    return new URL(started.body.authorizeUrl);
  };

  it('custom OAuth 2 services take extra authorize and token parameters, refusing the reserved ones', async () => {
    const refused = await sys.call('POST', '/v1/services', alice, { name: 'Bad', linkName: 'bad_extra', authType: 'oauth2', oauth2: oauth2({ extraAuthorizeParams: { redirect_uri: 'https://evil.example/cb' } }) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/oauth2\.extraAuthorizeParams\.redirect_uri: redirect_uri is set by Plugboard itself/) });
    const refusedToken = await sys.call('POST', '/v1/services', alice, { name: 'Bad', linkName: 'bad_extra', authType: 'oauth2', oauth2: oauth2({ extraTokenParams: { grant_type: 'password' } }) });
    expect(refusedToken.body.error.code).toBe('validation_failed');
    expect(await sys.sql(`SELECT 1 FROM events WHERE stream_id = 'service-acme.bad_extra'`)).toEqual([]);

    // Without prompt=consent a strict provider issues no refresh token...
    expect((await sys.call('POST', '/v1/services', alice, { name: 'Strict plain', linkName: 'strict_plain', authType: 'oauth2', baseUrl: apiBase, oauth2: oauth2() })).status).toBe(201);
    await connect('plain', 'strict_plain');
    expect(await credentialOf('plain')).toMatchObject({ kind: 'oauth2', refreshToken: null });

    // ...with it, it does; and the token parameters reach the token endpoint.
    const created = await sys.call('POST', '/v1/services', alice, {
      name: 'Strict offline',
      linkName: 'strict_offline',
      authType: 'oauth2',
      baseUrl: apiBase,
      oauth2: oauth2({ extraAuthorizeParams: { prompt: 'consent', access_type: 'offline' }, extraTokenParams: { audience: 'https://api.example.com' } }),
    });
    expect(created.status).toBe(201);
    expect(created.body.oauth2).toMatchObject({ extraAuthorizeParams: { prompt: 'consent', access_type: 'offline' }, extraTokenParams: { audience: 'https://api.example.com' }, clientSecret: '********' });
    const authorizeUrl = await connect('offline', 'strict_offline');
    expect(authorizeUrl.searchParams.get('prompt')).toBe('consent');
    expect(authorizeUrl.searchParams.get('access_type')).toBe('offline');
    expect(await as.lastTokenRequest()).toMatchObject({ grant_type: 'authorization_code', audience: 'https://api.example.com' });
    expect(await credentialOf('offline')).toMatchObject({ kind: 'oauth2', refreshToken: expect.any(String) });
  }, 60_000);

  it('edits the extra parameters under the service edit rules: only the owner, and an edit revokes the connections', async () => {
    const notOwner = await sys.call('PATCH', '/v1/services/strict_offline', alice, { oauth2: { extraAuthorizeParams: { prompt: 'consent' } } }, 'bob');
    expect(notOwner.status).toBe(403);
    const reserved = await sys.call('PATCH', '/v1/services/strict_offline', alice, { oauth2: { extraAuthorizeParams: { state: 'fixed' } } });
    expect(reserved.body.error.code).toBe('validation_failed');
    // The same parameters in another order are no change: nothing is revoked.
    const same = await sys.call('PATCH', '/v1/services/strict_offline', alice, { oauth2: { extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' } } });
    expect(same.status).toBe(200);
    expect((await sys.call('GET', '/v1/connections/offline', alice)).body.status).toBe('connected');

    const edited = await sys.call('PATCH', '/v1/services/strict_offline', alice, { oauth2: { extraAuthorizeParams: { prompt: 'consent' } } });
    expect(edited.status).toBe(200);
    expect(edited.body.oauth2.extraAuthorizeParams).toEqual({ prompt: 'consent' });
    const [event] = await sys.sql(`SELECT data FROM events WHERE stream_id = 'service-acme.strict_offline' AND type = 'ServiceEdited' ORDER BY global_position DESC LIMIT 1`);
    expect(event.data.changedFields).toEqual(['oauth2.extraAuthorizeParams']);
    await eventually(async () => expect((await sys.call('GET', '/v1/connections/offline', alice)).body).toMatchObject({ status: 'revoked', revokedReason: 'service_edited' }));
  }, 30_000);

  it('an expired token without a refresh token: 409 reauthorization_required without calling the API, recorded once, the webhook told', async () => {
    expect((await sys.call('POST', '/v1/invoke', alice, { connection: 'plain', method: 'GET', url: '/me' })).body.status).toBe(200);
    const callsBefore = apiCalls.length;
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const refused = await sys.call('POST', '/v1/invoke', alice, { connection: 'plain', method: 'GET', url: '/me' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'reauthorization_required', message: expect.stringMatching(/has expired and cannot be renewed: authorize it again/) });
    expect((await sys.call('POST', '/v1/invoke', alice, { connection: 'plain', method: 'GET', url: '/me' })).body.error.code).toBe('reauthorization_required');
    expect(apiCalls.length).toBe(callsBefore);

    const events = await sys.sql(`SELECT type, data FROM events WHERE stream_id = 'connection-acme.plain' AND type = 'ReauthorizationRequired'`);
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ linkName: 'plain', userId: null, reason: 'no_refresh_token' });
    await eventually(async () => expect((await sys.call('GET', '/v1/connections/plain', alice)).body).toMatchObject({ status: 'connected', reauthorizationRequired: true }));
    await eventually(async () => expect(hook.received.filter((d) => d.type === 'ReauthorizationRequired' && d.verified)).toHaveLength(1));
    expect(JSON.parse(hook.received.find((d) => d.type === 'ReauthorizationRequired')?.body ?? '{}')).toMatchObject({ type: 'ReauthorizationRequired', data: { linkName: 'plain' } });

    // Authorizing again clears it, and calls go through.
    const started = await sys.call('POST', '/v1/connections/plain/authorize', alice, {});
    const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
    expect((await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl), { headers: sys.browserHeaders })).status).toBe(200);
    expect((await sys.call('GET', '/v1/connections/plain', alice)).body.reauthorizationRequired).toBe(false);
    expect((await sys.call('POST', '/v1/invoke', alice, { connection: 'plain', method: 'GET', url: '/me' })).body.status).toBe(200);
  }, 60_000);

  describe("an org's own OAuth app for a predefined service", () => {
    const ORG_SECRET = 'org-github-secret-7d2a9c';
    const ORG_SECRET_2 = 'org-github-secret-second-51b0';

    it('PUT/DELETE /v1/services/{linkName}/client: 401 without a key, 403 for members, 4xx for what has no OAuth app', async () => {
      const body = { clientId: 'Iv1.org', clientSecret: ORG_SECRET };
      expect((await sys.call('PUT', '/v1/services/github/client', null, body)).status).toBe(401);
      expect((await sys.call('DELETE', '/v1/services/github/client', null)).status).toBe(401);
      const member = await sys.call('PUT', '/v1/services/github/client', alice, body);
      expect({ status: member.status, code: member.body.error.code }).toEqual({ status: 403, code: 'forbidden' });
      const unknown = await sys.call('PUT', '/v1/services/no_such_service/client', admin, body);
      expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 404, code: 'service_not_found' });
      const custom = await sys.call('PUT', '/v1/services/strict_plain/client', admin, body);
      expect({ status: custom.status, code: custom.body.error.code }).toEqual({ status: 404, code: 'service_not_found' });
      const apiKey = await sys.call('PUT', '/v1/services/stripe/client', admin, body);
      expect({ status: apiKey.status, code: apiKey.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
      expect(apiKey.body.error.message).toMatch(/Stripe does not authorize with OAuth/);
      const missing = await sys.call('PUT', '/v1/services/github/client', admin, { clientId: 'Iv1.org' });
      expect({ status: missing.status, code: missing.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
      const none = await sys.call('DELETE', '/v1/services/github/client', admin);
      expect({ status: none.status, code: none.body.error.code }).toEqual({ status: 404, code: 'service_client_not_found' });
      expect(await sys.sql(`SELECT 1 FROM events WHERE stream_id LIKE 'service-acme.%.client'`)).toEqual([]);
    });

    it('the deployment’s app is the default, shown without anything of it; the org’s own replaces it, secret in the vault only', async () => {
      expect((await sys.call('GET', '/v1/services/github', alice)).body.client).toEqual({ source: 'deployment', clientId: null, clientSecret: null, updatedAt: null });
      expect((await sys.call('GET', '/v1/services/gitlab', alice)).body.client).toEqual({ source: 'none', clientId: null, clientSecret: null, updatedAt: null });
      expect((await sys.call('POST', '/v1/connections', alice, { name: 'GitHub', linkName: 'gh', service: 'github' })).status).toBe(201);
      const before = new URL((await sys.call('POST', '/v1/connections/gh/authorize', alice, {})).body.authorizeUrl);
      expect(before.searchParams.get('client_id')).toBe('deployment-github-client');

      const set = await sys.call('PUT', '/v1/services/github/client', admin, { clientId: 'Iv1.org', clientSecret: ORG_SECRET });
      expect(set.status).toBe(200);
      expect(set.body).toMatchObject({ linkName: 'github', type: 'predefined', client: { source: 'organization', clientId: 'Iv1.org', clientSecret: '********', updatedAt: expect.any(String) } });
      expect((await sys.call('GET', '/v1/services/github', alice)).body.client).toMatchObject({ source: 'organization', clientId: 'Iv1.org', clientSecret: '********' });
      const after = new URL((await sys.call('POST', '/v1/connections/gh/authorize', alice, {})).body.authorizeUrl);
      expect(after.searchParams.get('client_id')).toBe('Iv1.org');
      // Another org still gets the deployment's.
      const globex = await sys.key('globex', 'member');
      expect((await sys.call('GET', '/v1/services/github', globex)).body.client.source).toBe('deployment');

      const [event] = await sys.sql(`SELECT type, data FROM events WHERE stream_id = 'service-acme.github.client'`);
      expect(event).toMatchObject({ type: 'ServiceClientSet', data: { clientId: 'Iv1.org', clientSecretRef: expect.any(String) } });
      expect(await sys.vaultEntry(event.data.clientSecretRef, 'acme')).toBe(ORG_SECRET);

      // The same app again is no change; a new secret replaces the vault entry (the old one is erased).
      await sys.call('PUT', '/v1/services/github/client', admin, { clientId: 'Iv1.org', clientSecret: ORG_SECRET });
      expect(await sys.sql(`SELECT 1 FROM events WHERE stream_id = 'service-acme.github.client'`)).toHaveLength(1);
      await sys.call('PUT', '/v1/services/github/client', admin, { clientId: 'Iv1.org', clientSecret: ORG_SECRET_2 });
      const [, second] = await sys.sql(`SELECT data FROM events WHERE stream_id = 'service-acme.github.client' ORDER BY stream_version`);
      expect(await sys.vaultEntry(second.data.clientSecretRef, 'acme')).toBe(ORG_SECRET_2);
      expect(await sys.vaultEntry(event.data.clientSecretRef, 'acme')).toBeNull();

      const removed = await sys.call('DELETE', '/v1/services/github/client', admin);
      expect(removed.status).toBe(200);
      expect(removed.body.client).toEqual({ source: 'deployment', clientId: null, clientSecret: null, updatedAt: null });
      expect(await sys.vaultEntry(second.data.clientSecretRef, 'acme')).toBeNull();
      expect(new URL((await sys.call('POST', '/v1/connections/gh/authorize', alice, {})).body.authorizeUrl).searchParams.get('client_id')).toBe('deployment-github-client');

      const everywhere = JSON.stringify(await sys.sql(`SELECT data, metadata FROM events UNION ALL SELECT to_jsonb(s), '{}' FROM services s`)) + sys.logs();
      for (const secret of [ORG_SECRET, ORG_SECRET_2, 'deployment-github-secret-4e1f']) expect(everywhere).not.toContain(secret);
    }, 30_000);
  });

  it('lists at least 300 predefined services, each with a category, filtered and searched by category', async () => {
    const all: { linkName: string; type: string; category?: string }[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const page = await sys.call('GET', `/v1/services?type=predefined&limit=200${cursor ? `&cursor=${cursor}` : ''}`, alice);
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    expect(all.length).toBeGreaterThanOrEqual(300);
    expect(all.filter((service) => service.type !== 'predefined' || !service.category)).toEqual([]);
    const accounting = await sys.call('GET', '/v1/services?category=accounting&limit=200', alice);
    expect(accounting.body.items.length).toBeGreaterThanOrEqual(5);
    expect(accounting.body.items.filter((service: { category: string }) => service.category !== 'accounting')).toEqual([]);
    expect(accounting.body.items.map((service: { linkName: string }) => service.linkName)).toEqual(expect.arrayContaining(['quickbooks', 'xero']));
    // Custom services have no category: a category filter leaves them out.
    expect(accounting.body.items.filter((service: { type: string }) => service.type === 'custom')).toEqual([]);
    expect((await sys.call('GET', '/v1/services?q=esignature&limit=200', alice)).body.items.map((service: { linkName: string }) => service.linkName)).toContain('docusign');
    const bad = await sys.call('GET', '/v1/services?category=Not%20A%20Category', alice);
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
  });

  it('shows which parameters the provider gives, and does not ask for them when the connection is created', async () => {
    const quickbooks = (await sys.call('GET', '/v1/services/quickbooks', alice)).body;
    expect(quickbooks.connectionParameters).toEqual([expect.objectContaining({ name: 'realmId', source: { from: 'callback', field: 'realmId' } })]);
    expect((await sys.call('POST', '/v1/connections', alice, { name: 'Books', linkName: 'books', service: 'quickbooks' })).status).toBe(201);
    // Salesforce's authorize URL needs the instance first: the provider's answer is then checked against it.
    const salesforce = await sys.call('POST', '/v1/connections', alice, { name: 'SF', linkName: 'sf', service: 'salesforce' });
    expect({ status: salesforce.status, code: salesforce.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
    const bad = await sys.call('POST', '/v1/connections', alice, { name: 'Books 2', linkName: 'books_two', service: 'quickbooks', parameters: { realmId: '1/../x' } });
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
  });
});
