import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoredCredential } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { isOAuth2Error, refresh } from '@plugboard/oauth2';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/**
 * What Plugboard checks with the provider around a connection's life: the provider's token revocation endpoint on
 * revoke and delete (a real oidc-provider), the service's verification call when API key or Basic credentials are
 * posted (a local API that checks them), and the callback URL of the region an authorization names.
 */
describe('connection checks with the provider', () => {
  let sys: TestSystem & { publicUrl: string };
  let as: TestAuthorizationServer;
  let alice: string;
  /** The "eu" region: the same gateway under another host name. */
  let euUrl: string;

  beforeAll(async () => {
    sys = await startTestSystem((port) => ({ PLUGBOARD_REGION_URLS: `eu=http://localhost:${port},in=https://in.plugboard.example` }));
    euUrl = sys.publicUrl.replace('127.0.0.1', 'localhost');
    // Hour-long tokens: the token-refresh app's scheduler must not refresh them while the test looks.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`, `${euUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    alice = await sys.key('acme', 'member');
  }, 90_000);
  afterAll(async () => {
    await as?.stop();
    await sys?.close();
  });

  const credentialOf = async (linkName: string): Promise<Extract<StoredCredential, { kind: 'oauth2' }>> => {
    const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = $1`, [linkName]);
    const credential = await sys.vaultEntry<StoredCredential>(row.credential_ref, 'acme');
    if (credential?.kind !== 'oauth2') throw new Error('expected OAuth 2 tokens');
    return credential;
  };
  /** Whether the authorization server still takes the token (RFC 7662). */
  const active = async (token: string): Promise<boolean> => {
    const { clientId, clientSecret } = as.clients.basic;
    const response = await fetch(as.introspectUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    return ((await response.json()) as { active: boolean }).active;
  };
  const oauthService = (linkName: string, revokeUrl?: string) => {
    const { clientId, clientSecret } = as.clients.basic;
    return {
      name: linkName,
      linkName,
      authType: 'oauth2',
      oauth2: { grantType: 'authorization_code', clientId, clientSecret, authorizeUrl: as.authorizeUrl, accessTokenUrl: as.tokenUrl, revokeUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
    };
  };
  const connect = async (linkName: string, service: string) => {
    expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service })).status).toBe(201);
    const started = await sys.call('POST', `/v1/connections/${linkName}/authorize`, alice, {});
    const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
    expect((await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl), { headers: sys.browserHeaders })).status).toBe(200);
    return credentialOf(linkName);
  };
  const refused = (refreshToken: string) =>
    refresh({ tokenUrl: as.tokenUrl, ...as.clients.basic, refreshToken, allowInsecureLocalhost: true }).then(
      () => 'refreshed',
      (error: unknown) => (isOAuth2Error(error) ? error.kind : 'unexpected'),
    );

  it('revoke: the provider’s revocation endpoint ends the grant, after the revocation is recorded', async () => {
    const created = await sys.call('POST', '/v1/services', alice, oauthService('revoking_oauth', as.revokeUrl));
    expect(created.status).toBe(201);
    expect(created.body.oauth2.revokeUrl).toBe(as.revokeUrl);
    const tokens = await connect('crm', 'revoking_oauth');
    expect(await active(tokens.accessToken)).toBe(true);
    await as.resetCounters();

    const revoked = await sys.call('POST', '/v1/connections/crm/revoke', alice);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedReason: 'user' });
    await eventually(async () => expect(await as.revocationRequests()).toBe(1));
    await eventually(async () => expect(await active(tokens.accessToken)).toBe(false));
    expect(await refused(tokens.refreshToken as string)).toBe('invalid_grant');

    const logs = sys.logs();
    expect(logs).toContain('the provider revoked the token');
    for (const secret of [tokens.accessToken, tokens.refreshToken as string, as.clients.basic.clientSecret]) {
      expect(logs.split('\n').filter((line) => line.includes(secret))).toEqual([]);
    }
    const everywhere = JSON.stringify(await sys.sql(`SELECT data, metadata FROM events`));
    expect(everywhere).not.toContain(tokens.refreshToken as string);
  }, 60_000);

  it('delete: the tokens of the deleted connection are revoked at the provider too', async () => {
    const tokens = await connect('crm_two', 'revoking_oauth');
    expect(await active(tokens.accessToken)).toBe(true);
    expect((await sys.call('DELETE', '/v1/connections/crm_two', alice)).status).toBe(204);
    await eventually(async () => expect(await active(tokens.accessToken)).toBe(false));
    expect(await refused(tokens.refreshToken as string)).toBe('invalid_grant');
  }, 60_000);

  it('without a revocation endpoint nothing is called, and the tokens stay valid at the provider', async () => {
    expect((await sys.call('POST', '/v1/services', alice, oauthService('plain_oauth'))).status).toBe(201);
    const tokens = await connect('plain', 'plain_oauth');
    await as.resetCounters();
    expect((await sys.call('POST', '/v1/connections/plain/revoke', alice)).body.status).toBe('revoked');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await as.revocationRequests()).toBe(0);
    expect(await active(tokens.accessToken)).toBe(true);
  }, 60_000);

  it('never sends a client secret inside the deployment: private token URLs are refused before any request', async () => {
    const inside = (linkName: string, tokenUrl: string) => ({
      name: linkName,
      linkName,
      authType: 'oauth2',
      baseUrl: 'https://api.example.com',
      oauth2: { grantType: 'client_credentials', clientId: 'c', clientSecret: 'inside-secret-1', accessTokenUrl: tokenUrl, paramType: 'header', scopes: [{ name: 'a', displayName: 'A' }] },
    });
    for (const [linkName, tokenUrl] of [
      ['metadata', 'https://169.254.169.254/token'],
      ['loopback_v6', 'https://[::1]:9/token'],
    ]) {
      expect((await sys.call('POST', '/v1/services', alice, inside(linkName, tokenUrl))).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service: linkName })).status).toBe(201);
      const started = Date.now();
      const refused = await sys.call('POST', `/v1/connections/${linkName}/authorize`, alice, {});
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 403, code: 'private_address' });
      expect(refused.body.error.message).toMatch(/private or local address/);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await sys.call('GET', `/v1/connections/${linkName}`, alice)).body.status).toBe('pending');
    }
  });

  describe('callbacks per region', () => {
    it('OAuth 2: the provider sends the user back to the region’s callback URL, and the code exchange presents the same', async () => {
      expect((await sys.call('POST', '/v1/connections', alice, { name: 'EU CRM', linkName: 'eu_crm', service: 'plain_oauth' })).status).toBe(201);
      const unknown = await sys.call('POST', '/v1/connections/eu_crm/authorize', alice, { region: 'au' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toBe('The request is not valid. authorization.region: this Plugboard has no region "au" (it has eu, in).');

      const started = await sys.call('POST', '/v1/connections/eu_crm/authorize', alice, { region: 'eu' });
      expect(started.status).toBe(200);
      expect(new URL(started.body.authorizeUrl).searchParams.get('redirect_uri')).toBe(`${euUrl}/v1/oauth/callback`);
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      expect(consent.callbackUrl.startsWith(`${euUrl}/v1/oauth/callback?`)).toBe(true);
      await as.resetCounters();
      const page = await fetch(consent.callbackUrl, { headers: sys.browserHeaders });
      expect(page.status).toBe(200);
      expect(await as.tokenRequests()).toBe(1);
      expect((await sys.call('GET', '/v1/connections/eu_crm', alice)).body.status).toBe('connected');
    }, 60_000);

    it('OAuth 2: the exchange sends the redirect URI stored with the state, whichever host the user comes back through', async () => {
      const started = await sys.call('POST', '/v1/connections/eu_crm/authorize', alice, {});
      expect(new URL(started.body.authorizeUrl).searchParams.get('redirect_uri')).toBe(`${sys.publicUrl}/v1/oauth/callback`);
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      // The state is the default region's: the redirect URI stored with it is the one sent with the code.
      const page = await fetch(consent.callbackUrl.replace(sys.publicUrl, euUrl), { headers: sys.browserHeaders });
      expect(page.status).toBe(200);
      const [authorization] = await sys.sql(`SELECT redirect_uri FROM oauth_authorizations ORDER BY expires_at DESC LIMIT 1`);
      expect(authorization.redirect_uri).toBe(`${sys.publicUrl}/v1/oauth/callback`);
    }, 60_000);

    it('OAuth 1.0a: the callback sent with the request token is the region’s', async () => {
      const provider = new OAuth1Provider({ consumers: [{ key: 'region-consumer', secret: 'region-consumer-secret' }] });
      const base = (await provider.start()).baseUrl;
      try {
        const oauth1 = { consumerKey: 'region-consumer', consumerSecret: 'region-consumer-secret', requestTokenUrl: `${base}/oauth/request_token`, authorizeUrl: `${base}/oauth/authorize`, accessTokenUrl: `${base}/oauth/access_token`, paramType: 'header' };
        expect((await sys.call('POST', '/v1/services', alice, { name: 'Region OAuth 1', linkName: 'region_oauth1', authType: 'oauth1', oauth1 })).status).toBe(201);
        expect((await sys.call('POST', '/v1/connections', alice, { name: 'EU legacy', linkName: 'eu_legacy', service: 'region_oauth1' })).status).toBe(201);
        const started = await sys.call('POST', '/v1/connections/eu_legacy/authorize', alice, { region: 'eu' });
        const approve = await fetch(`${started.body.authorizeUrl}&approve=1`, { redirect: 'manual' });
        const location = approve.headers.get('location') as string;
        expect(location.startsWith(`${euUrl}/v1/oauth1/callback?oauth_token=`)).toBe(true);
        expect((await fetch(location, { headers: sys.browserHeaders })).status).toBe(200);
        expect((await sys.call('GET', '/v1/connections/eu_legacy', alice)).body.status).toBe('connected');
      } finally {
        await provider.stop();
      }
    }, 60_000);
  });

  describe('verification of API key and Basic credentials', () => {
    const GOOD_KEY = 'vk-live-7f3a9c-good-key';
    const BAD_KEY = 'vk-live-0000-bad-key';
    let api: Server;
    let apiBase: string;
    const calls: { path: string; key: string | undefined; authorization: string | undefined }[] = [];

    beforeAll(async () => {
      api = createServer((req, res) => {
        calls.push({ path: req.url ?? '', key: req.headers['x-api-key'] as string | undefined, authorization: req.headers.authorization });
        if (req.url === '/api/down') return res.writeHead(503).end();
        const basic = `Basic ${Buffer.from('ada:open-sesame-42').toString('base64')}`;
        const ok = req.headers['x-api-key'] === GOOD_KEY || req.headers.authorization === basic;
        res.writeHead(ok ? 200 : req.headers.authorization ? 403 : 401, { 'content-type': 'application/json' }).end(ok ? '{"id":1}' : '{"error":"no"}');
      });
      apiBase = await listen(api);
      const keyService = { name: 'Checked API', linkName: 'checked_api', authType: 'api_key', baseUrl: `${apiBase}/api`, verify: { method: 'GET', path: '/me' }, apiKey: { params: [{ name: 'x-api-key', displayName: 'Key', paramType: 'header' }] } };
      const basicService = { name: 'Checked Basic', linkName: 'checked_basic', authType: 'basic', baseUrl: `${apiBase}/api`, verify: { method: 'GET', path: '/me' } };
      for (const service of [keyService, basicService]) expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
      for (const [linkName, service] of [['checked', 'checked_api'], ['checked_b', 'checked_basic']]) {
        expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service })).status).toBe(201);
      }
    });
    afterAll(() => new Promise((resolve) => api.close(resolve)));

    const stored = async (linkName: string) => (await sys.sql(`SELECT id FROM vault_entries WHERE purpose = $1`, [`connection.${linkName}.credential`])).length;
    const authorizedEvents = async (linkName: string) => (await sys.sql(`SELECT 1 FROM events WHERE stream_id = $1 AND type = 'ConnectionAuthorized'`, [`connection-acme.${linkName}`])).length;

    it('a key the API refuses (401) is refused with credential_rejected, and nothing is recorded or stored', async () => {
      expect((await sys.call('GET', '/v1/services/checked_api', alice)).body.verify).toEqual({ method: 'GET', path: '/me' });
      const refused = await sys.call('POST', '/v1/connections/checked/authorize', alice, { values: { 'x-api-key': BAD_KEY } });
      expect(refused.status).toBe(422);
      expect(refused.body.error).toEqual({ code: 'credential_rejected', message: 'Checked API refused these credentials (HTTP 401 to GET /api/me). Check them and authorize again; nothing was stored.' });
      expect(calls.at(-1)).toMatchObject({ path: '/api/me', key: BAD_KEY });
      expect(await stored('checked')).toBe(0);
      expect(await authorizedEvents('checked')).toBe(0);
      expect((await sys.call('GET', '/v1/connections/checked', alice)).body.status).toBe('pending');
      expect(sys.logs()).not.toContain(BAD_KEY);
    });

    it('a key the API accepts connects, injected the way the service says', async () => {
      const ok = await sys.call('POST', '/v1/connections/checked/authorize', alice, { values: { 'x-api-key': GOOD_KEY } });
      expect(ok.status).toBe(200);
      expect(ok.body.connection.status).toBe('connected');
      expect(calls.at(-1)).toMatchObject({ path: '/api/me', key: GOOD_KEY });
      expect(await stored('checked')).toBe(1);
      expect(sys.logs()).not.toContain(GOOD_KEY);
    });

    it('Basic: a 403 is a refusal too; the right password connects', async () => {
      const refused = await sys.call('POST', '/v1/connections/checked_b/authorize', alice, { username: 'ada', password: 'wrong-password' });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('credential_rejected');
      expect(refused.body.error.message).toContain('HTTP 403');
      expect(await stored('checked_b')).toBe(0);
      expect((await sys.call('POST', '/v1/connections/checked_b/authorize', alice, { username: 'ada', password: 'open-sesame-42' })).body.connection.status).toBe('connected');
    });

    it('an API that cannot answer refuses with verification_unreachable (502), and the connection keeps its credential', async () => {
      expect((await sys.call('PATCH', '/v1/services/checked_api', alice, { verify: { method: 'GET', path: '/down' } })).status).toBe(200);
      // The edit revoked the connection; its old credential stays retired.
      const down = await sys.call('POST', '/v1/connections/checked/authorize', alice, { values: { 'x-api-key': GOOD_KEY } });
      expect(down.status).toBe(502);
      expect(down.body.error).toEqual({ code: 'verification_unreachable', message: 'Plugboard could not check these credentials with Checked API (HTTP 503 from GET /api/down). Nothing was stored; try again later.' });
      expect((await sys.call('PATCH', '/v1/services/checked_api', alice, { baseUrl: 'http://127.0.0.1:9/api', allowedHosts: ['127.0.0.1:9'] })).status).toBe(200);
      const closed = await sys.call('POST', '/v1/connections/checked/authorize', alice, { values: { 'x-api-key': GOOD_KEY } });
      expect(closed.status).toBe(502);
      expect(closed.body.error.message).toMatch(/ECONNREFUSED/);
      expect(await stored('checked')).toBe(1);
      expect(await authorizedEvents('checked')).toBe(1);
    });
  });

  it('a provider that hangs or fails neither slows nor fails the revocation; the failure is logged without secrets', async () => {
    const hits: string[] = [];
    const hanging = createServer((req) => hits.push(req.url ?? ''));
    const hangingUrl = await listen(hanging);
    try {
      expect((await sys.call('PATCH', '/v1/services/revoking_oauth', alice, { oauth2: { revokeUrl: `${hangingUrl}/revoke` } })).status).toBe(200);
      const tokens = await connect('crm_three', 'revoking_oauth');
      const started = Date.now();
      const revoked = await sys.call('POST', '/v1/connections/crm_three/revoke', alice);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(revoked.body.status).toBe('revoked');
      await eventually(() => expect(hits).toEqual(['/revoke']));
      hanging.closeAllConnections();
      await eventually(() => expect(sys.logs()).toContain('the provider did not confirm the token revocation'));
      const lines = sys.logs().split('\n').filter((line) => line.includes('did not confirm'));
      expect(lines.join('\n')).not.toContain(tokens.refreshToken as string);
      expect(lines.join('\n')).not.toContain(as.clients.basic.clientSecret);
      expect(await active(tokens.accessToken)).toBe(true);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  }, 60_000);
});
