import { Subjects, type StoredCredential } from '@plugboard/contracts';
import { revoke } from '@plugboard/oauth2';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { endOf, raceStop, type RaceClient } from './test-support/revocation-race';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

/**
 * Issue 12, item 1: once a revoke, a delete, an edit of the service, a failed verification or a failed refresh is
 * acknowledged, no call sends the credential again, whatever calls were racing it. 150 users call one connection on
 * both paths while it is stopped.
 */
describe('revoked means stopped', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let as: TestAuthorizationServer;
  let admin: string;
  let round = 0;

  const client = (): RaceClient => ({
    invoke: (linkName, userId, call) => post('/v1/invoke', userId, { connection: linkName, method: 'GET', url: '/items', query: { call } }),
    proxy: async (linkName, userId, call) => endOf(await fetch(`${sys.publicUrl}/v1/proxy/${linkName}/items?call=${encodeURIComponent(call)}`, { headers: { authorization: `Bearer ${admin}`, 'x-user-id': userId } })),
  });
  const post = async (path: string, userId: string, body: object) =>
    endOf(await fetch(`${sys.publicUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'x-user-id': userId, 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  /** A fresh API-key service and connection, authorized with a secret of its own. */
  async function connected(extra: object = {}): Promise<{ linkName: string; service: string; secret: string }> {
    const service = `race_svc_${round}`;
    const linkName = `race_${round}`;
    const secret = `race-secret-${round++}`;
    const created = await sys.call('POST', '/v1/services', admin, { name: service, linkName: service, authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] }, ...extra });
    expect(created.status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', admin, { name: linkName, linkName, service })).status).toBe(201);
    expect((await sys.call('POST', `/v1/connections/${linkName}/authorize`, admin, { values: { 'X-Api-Key': secret } })).status).toBe(200);
    return { linkName, service, secret };
  }

  beforeAll(async () => {
    up = await startUpstream();
    // Verification every 300 ms, looked for every 100 ms: a key the API stops taking is revoked within a second.
    // The token-refresh app reads its settings from the process's environment when it starts.
    const saved = { ...process.env };
    Object.assign(process.env, { PLUGBOARD_VERIFY_INTERVAL_MS: '300', PLUGBOARD_REFRESH_INTERVAL_MS: '100' });
    try {
      sys = await startTestSystem({ DATABASE_POOL_SIZE: '8' });
    } finally {
      for (const name of ['PLUGBOARD_VERIFY_INTERVAL_MS', 'PLUGBOARD_REFRESH_INTERVAL_MS']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    // Hour-long tokens: no refresh but the one a test asks for.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    admin = await sys.key('acme', 'admin');
  }, 60_000);

  afterAll(async () => {
    await as?.stop();
    await sys?.close();
    await up?.close();
  });

  const stops: [string, (c: { linkName: string; service: string }) => Promise<void>][] = [
    ['a revoke', async ({ linkName }) => expect((await sys.call('POST', `/v1/connections/${linkName}/revoke`, admin, {})).status).toBe(200)],
    ['a delete', async ({ linkName }) => expect((await sys.call('DELETE', `/v1/connections/${linkName}`, admin)).status).toBe(204)],
    ['an edit of its service', async ({ service }) => expect((await sys.call('PATCH', `/v1/services/${service}`, admin, { name: `${service} v2` })).status).toBe(200)],
  ];

  it.each(stops)('no call begun after %s is acknowledged sends the credential, on POST /v1/invoke or /v1/proxy', async (_what, stop) => {
    // Early, while the first loads are still reading; later, once the caches are full.
    let served = 0;
    for (const stopAfterMs of [20, 500]) {
      const connection = await connected();
      const outcome = await raceStop(client(), up, { linkName: connection.linkName, secret: connection.secret, stop: () => stop(connection) }, { stopAfterMs, afterServed: stopAfterMs > 20 });
      served += outcome.servedBeforeAck;
      process.stdout.write(`[revocation] ${_what} ${stopAfterMs} ms into the burst: ${JSON.stringify(outcome, (k, v) => (k === 'leaked' ? v.length : v))}\n`);
      expect(outcome.startedAfterAck).toBeGreaterThan(300);
      expect(outcome.leaked).toEqual([]);
    }
    expect(served).toBeGreaterThan(0);
  }, 120_000);

  /** Polls the connection as the org sees it until it shows this revocation: the moment it is acknowledged. */
  async function shownRevoked(linkName: string, reason: string): Promise<void> {
    for (const deadline = Date.now() + 20_000; ; ) {
      const { body } = await sys.call('GET', `/v1/connections/${linkName}`, admin);
      if (body.status === 'revoked' && body.revokedReason === reason) return;
      if (Date.now() > deadline) throw new Error(`${linkName} is not shown revoked (${reason}): ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('no call begun after a failed verification is shown sends the credential, on POST /v1/invoke or /v1/proxy', async () => {
    // The API stops taking the key at its verification call only (its other paths still record which key each call
    // carried); the verify scheduler finds it out and revokes the credential (verification_failed).
    let served = 0;
    for (const stopAfterMs of [20, 500]) {
      const connection = await connected({ verify: { method: 'GET', path: '/verify' } });
      const stop = async () => {
        up.refusedAtVerify.add(connection.secret);
        await shownRevoked(connection.linkName, 'verification_failed');
      };
      const outcome = await raceStop(client(), up, { linkName: connection.linkName, secret: connection.secret, stop }, { stopAfterMs, afterServed: stopAfterMs > 20 });
      served += outcome.servedBeforeAck;
      process.stdout.write(`[revocation] a failed verification ${stopAfterMs} ms into the burst: ${JSON.stringify(outcome, (k, v) => (k === 'leaked' ? v.length : v))}\n`);
      expect(up.seen.some((s) => s.path === '/verify' && s.headers['x-api-key'] === connection.secret)).toBe(true);
      expect(outcome.startedAfterAck).toBeGreaterThan(300);
      expect(outcome.leaked).toEqual([]);
    }
    expect(served).toBeGreaterThan(0);
  }, 120_000);

  it('no call begun after a failed refresh is shown sends the old access token, on POST /v1/invoke or /v1/proxy', async () => {
    // An OAuth 2 connection whose refresh token the provider then revokes: the next refresh gets invalid_grant and
    // revokes the credential (refresh_failed). The refresh is asked for over the bus, as another invoke replica asks
    // after a 401, so nothing in the replica serving these calls hears of it but through the log.
    const { clientId, clientSecret } = as.clients.basic;
    let served = 0;
    for (const stopAfterMs of [20, 500]) {
      const service = `race_oauth_${round}`;
      const linkName = `race_${round++}`;
      const oauth2 = { grantType: 'authorization_code', clientId, clientSecret, authorizeUrl: as.authorizeUrl, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] };
      expect((await sys.call('POST', '/v1/services', admin, { name: service, linkName: service, authType: 'oauth2', baseUrl: up.base, oauth2 })).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections', admin, { name: linkName, linkName, service })).status).toBe(201);
      const started = await sys.call('POST', `/v1/connections/${linkName}/authorize`, admin, {});
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      expect((await fetch(consent.callbackUrl.replace(/^http:\/\/[^/]+/, sys.publicUrl), { headers: sys.browserHeaders })).status).toBe(200);
      const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = $1`, [linkName]);
      const tokens = await sys.vaultEntry<StoredCredential>(row.credential_ref, 'acme');
      if (tokens?.kind !== 'oauth2' || !tokens.refreshToken) throw new Error('expected OAuth 2 tokens with a refresh token');
      const { refreshToken } = tokens;

      const stop = async () => {
        await revoke({ ...as.clients.basic, allowInsecureLocalhost: true, revokeUrl: as.revokeUrl, token: refreshToken, tokenTypeHint: 'refresh_token' });
        const [{ version }] = await sys.sql(`SELECT version FROM vault_entries WHERE id = $1`, [row.credential_ref]);
        const reply = await sys.rpc.request(Subjects.tokenRefresh.refresh, { orgId: 'acme', linkName, userId: null, seenVersion: version }, { timeoutMs: 20_000 });
        expect(reply.outcome).toBe('revoked');
        await shownRevoked(linkName, 'refresh_failed');
      };
      const outcome = await raceStop(client(), up, { linkName, secret: tokens.accessToken, stop }, { stopAfterMs, afterServed: stopAfterMs > 20 });
      served += outcome.servedBeforeAck;
      process.stdout.write(`[revocation] a failed refresh ${stopAfterMs} ms into the burst: ${JSON.stringify(outcome, (k, v) => (k === 'leaked' ? v.length : v))}\n`);
      expect(outcome.startedAfterAck).toBeGreaterThan(300);
      expect(outcome.leaked).toEqual([]);
    }
    expect(served).toBeGreaterThan(0);
  }, 120_000);
});
