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
    sys = await startTestSystem({ PLUGBOARD_WEBHOOK_POLL_MS: '50' });
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
    const page = await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl));
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
    expect((await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl))).status).toBe(200);
    expect((await sys.call('GET', '/v1/connections/plain', alice)).body.reauthorizationRequired).toBe(false);
    expect((await sys.call('POST', '/v1/invoke', alice, { connection: 'plain', method: 'GET', url: '/me' })).body.status).toBe(200);
  }, 60_000);
});

