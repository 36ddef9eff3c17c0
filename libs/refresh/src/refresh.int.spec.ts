import type { INestMicroservice } from '@nestjs/common';
import { connectionStreamId, Subjects, type RefreshCredentialReply } from '@plugboard/contracts';
import { connectionDecider, OWN_CREDENTIAL } from '@plugboard/connection-domain';
import { connectionCommands } from '@plugboard/connections';
import { revoke } from '@plugboard/oauth2';
import { startAuthorizationServer, startStubHttpServer, type StubHttpServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually } from '@plugboard/testing';
import { RefreshMetrics } from './refresh/refresh-metrics';
import { authorizeAt, createHarness, mintAt, ORG, randomToken, stored, type RefreshHarness } from './test-support/harness';

/**
 * On-demand refresh in one process, over real NATS and PostgreSQL, against a real OAuth 2 server (oidc-provider,
 * rotating refresh tokens: a second use of one fails and revokes the grant) and scripted stubs for the failures.
 */
describe('token refresh on demand', () => {
  let h: RefreshHarness;
  let as: TestAuthorizationServer;
  let stub: StubHttpServer;
  let app: INestMicroservice;
  let metrics: RefreshMetrics;
  /** Every token and secret this file handles, to check none is ever written outside the vault. */
  const secrets: string[] = [];
  /** How the stub token endpoint answers each refresh token (by its value). */
  const script = new Map<string, { status: number; body?: object; headers?: Record<string, string>; meanwhile?: () => Promise<void> }>();

  const ask = (linkName: string, userId: string | null = null, seenVersion?: number): Promise<RefreshCredentialReply> =>
    h.rpc.request(Subjects.tokenRefresh.refresh, { orgId: ORG, linkName, userId, ...(seenVersion === undefined ? {} : { seenVersion }) }, { timeoutMs: 20_000 });
  const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);
  const scheduleRow = async (ref: string) => (await h.dataSource.query(`SELECT * FROM refresh_schedule WHERE credential_ref = $1`, [ref]))[0];

  beforeAll(async () => {
    h = await createHarness();
    as = await startAuthorizationServer({ redirectUris: ['http://127.0.0.1/callback'], accessTokenTtlSeconds: 3600 });
    stub = await startStubHttpServer(async (req, res) => {
      const presented = new URLSearchParams(req.body).get('refresh_token') ?? '';
      const answer = script.get(presented) ?? { status: 200, body: { access_token: randomToken('stub-at'), token_type: 'Bearer', expires_in: 3600 } };
      await answer.meanwhile?.();
      const body = JSON.stringify(answer.body ?? {});
      if ('access_token' in (answer.body ?? {})) secrets.push((answer.body as { access_token: string }).access_token);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(body);
    });
    secrets.push(as.clients.basic.clientSecret, 'stub-client-secret-0123456789');
    await h.oauthService('local_oauth', { tokenUrl: as.tokenUrl, client: as.clients.basic });
    await h.oauthService('local_machine', { tokenUrl: as.tokenUrl, client: as.clients.basic, grantType: 'client_credentials' });
    await h.oauthService('stub_oauth', { tokenUrl: `${stub.url}/token`, client: { clientId: 'stub-client', clientSecret: 'stub-client-secret-0123456789' } });
    // On demand only here: the scheduler has a test of its own (three replicas).
    app = await h.start({ schedulerEnabled: false, backoffBaseMs: 1_000 });
    metrics = app.get(RefreshMetrics);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await as?.stop();
    await stub?.stop();
  });

  it('50 concurrent requests for one credential: one call to the token endpoint, every caller answered, the rotated tokens in the vault', async () => {
    await h.connection('crm', 'local_oauth');
    const tokens = await authorizeAt(as, as.clients.basic);
    secrets.push(tokens.accessToken, tokens.refreshToken as string);
    const ref = await h.authorize('crm', null, stored(tokens, inMinutes(1)));
    await as.resetCounters();

    const replies = await Promise.all(Array.from({ length: 50 }, () => ask('crm', null, 1)));

    expect(await as.tokenRequests()).toBe(1);
    expect(replies.every((r) => r.outcome === 'refreshed' || r.outcome === 'already_fresh')).toBe(true);
    expect(replies.filter((r) => r.outcome === 'refreshed').length).toBeGreaterThanOrEqual(1);
    const { value, version } = await h.credential(ref);
    secrets.push(value.accessToken, value.refreshToken as string);
    expect(version).toBe(2);
    expect(value.accessToken).not.toBe(tokens.accessToken);
    expect(value.refreshToken).not.toBe(tokens.refreshToken);
    expect(Date.parse(value.expiresAt as string)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const refreshed = await h.events('TokenRefreshed');
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0].data).toMatchObject({ orgId: ORG, linkName: 'crm', userId: null, credentialRef: ref, expiresAt: value.expiresAt, refreshTokenRotated: true });
    expect(refreshed[0].metadata).toMatchObject({ orgId: ORG, userId: 'plugboard' });
    // The rotated refresh token in the vault is the live one: the next refresh spends it successfully.
    await as.resetCounters();
    expect(await ask('crm', null, 2)).toMatchObject({ outcome: 'refreshed' });
    expect(await as.tokenRequests()).toBe(1);
    const after = await h.credential(ref);
    secrets.push(after.value.accessToken, after.value.refreshToken as string);
    expect(after.version).toBe(3);
    expect(await h.dataSource.query(`SELECT * FROM refresh_leases`)).toEqual([]);
  }, 60_000);

  it('answers already_fresh without calling the provider when the credential moved past the caller’s version, or is comfortably valid', async () => {
    await as.resetCounters();
    const before = metrics.alreadyFresh;
    expect(await ask('crm', null, 1)).toMatchObject({ outcome: 'already_fresh', expiresAt: expect.any(String) });
    expect(await ask('crm')).toMatchObject({ outcome: 'already_fresh' });
    expect(await as.tokenRequests()).toBe(0);
    expect(metrics.alreadyFresh).toBe(before + 2);
  });

  it('keeps the old refresh token when the response has none', async () => {
    await h.connection('quiet', 'stub_oauth');
    const refreshToken = randomToken('stub-rt');
    secrets.push(refreshToken);
    const ref = await h.authorize('quiet', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: ['api:read'] }, inMinutes(-1)));
    expect(await ask('quiet')).toMatchObject({ outcome: 'refreshed' });
    const { value } = await h.credential(ref);
    expect(value.refreshToken).toBe(refreshToken);
    expect(value.scopes).toEqual(['api:read']);
    const [event] = await h.events('TokenRefreshed', connectionStreamId(ORG, 'quiet'));
    expect(event.data).toMatchObject({ refreshTokenRotated: false });
    // HTTP Basic client authentication, with the client secret the service keeps in the vault.
    const basic = Buffer.from(String(stub.requests.at(-1)?.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    expect(basic.split(':').map(decodeURIComponent)).toEqual(['stub-client', 'stub-client-secret-0123456789']);
  });

  it('mints a new token for a client-credentials connection instead of refreshing', async () => {
    await h.connection('machine', 'local_machine');
    const tokens = await mintAt(as, as.clients.basic);
    secrets.push(tokens.accessToken);
    const ref = await h.authorize('machine', null, stored(tokens, inMinutes(0.25)));
    await as.resetCounters();
    expect(await ask('machine')).toMatchObject({ outcome: 'refreshed' });
    expect(await as.tokenRequests()).toBe(1);
    const { value, version } = await h.credential(ref);
    secrets.push(value.accessToken);
    expect(version).toBe(2);
    expect(value).toMatchObject({ kind: 'oauth2', refreshToken: null });
    expect(value.accessToken).not.toBe(tokens.accessToken);
  });

  it('a definitive failure (invalid_grant) revokes only that user’s credential, with reason refresh_failed', async () => {
    await h.connection('team', 'local_oauth', { useLoginUserCredentials: true });
    const alice = await authorizeAt(as, as.clients.basic);
    const bob = await authorizeAt(as, as.clients.basic);
    secrets.push(alice.accessToken, alice.refreshToken as string, bob.accessToken, bob.refreshToken as string);
    const aliceRef = await h.authorize('team', 'alice', stored(alice, inMinutes(10)));
    const bobRef = await h.authorize('team', 'bob', stored(bob, inMinutes(10)));
    await eventually(async () => expect(await scheduleRow(bobRef)).toBeDefined());
    // Bob's grant is revoked at the provider, so refreshing it can never work again.
    await revoke({ ...as.clients.basic, allowInsecureLocalhost: true, revokeUrl: as.revokeUrl, token: bob.refreshToken as string, tokenTypeHint: 'refresh_token' });

    expect(await ask('team', 'bob', 1)).toEqual({ outcome: 'revoked', expiresAt: null });

    const events = await h.events(undefined, connectionStreamId(ORG, 'team'));
    const tail = events.slice(-2);
    expect(tail.map((e) => e.type)).toEqual(['TokenRefreshFailed', 'ConnectionRevoked']);
    expect(tail[0].data).toMatchObject({ userId: 'bob', credentialRef: bobRef, definitive: true, error: 'invalid_grant' });
    expect(tail[1].data).toMatchObject({ userId: 'bob', credentialRef: bobRef, reason: 'refresh_failed', revokedBy: 'plugboard' });
    const { state } = await h.store.aggregateStream(connectionStreamId(ORG, 'team'), connectionDecider);
    expect(state.status === 'active' && state.credentials).toMatchObject({ alice: { status: 'connected', credentialRef: aliceRef }, bob: { status: 'revoked', revokedReason: 'refresh_failed' } });
    await eventually(async () => expect(await scheduleRow(bobRef)).toBeUndefined());
    expect(await scheduleRow(aliceRef)).toBeDefined();
    expect(metrics.failed.definitive).toBe(1);
    // Asking again answers revoked, without another call.
    await as.resetCounters();
    expect(await ask('team', 'bob')).toEqual({ outcome: 'revoked', expiresAt: null });
    expect(await as.tokenRequests()).toBe(0);
  }, 60_000);

  it('a revoked client (invalid_client) revokes the connection’s own credential', async () => {
    await h.connection('solo', 'stub_oauth');
    const refreshToken = randomToken('stub-rt');
    secrets.push(refreshToken);
    script.set(refreshToken, { status: 401, body: { error: 'invalid_client', error_description: 'client revoked' } });
    const ref = await h.authorize('solo', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: null }, inMinutes(-5)));
    expect(await ask('solo')).toEqual({ outcome: 'revoked', expiresAt: null });
    const [revoked] = await h.events('ConnectionRevoked', connectionStreamId(ORG, 'solo'));
    expect(revoked.data).toMatchObject({ userId: null, credentialRef: ref, reason: 'refresh_failed' });
    const { state } = await h.store.aggregateStream(connectionStreamId(ORG, 'solo'), connectionDecider);
    expect(state.status === 'active' && state.credentials[OWN_CREDENTIAL].status).toBe('revoked');
  });

  it('an invalid_grant for a token someone else already replaced revokes nothing', async () => {
    await h.connection('raced', 'stub_oauth');
    const refreshToken = randomToken('stub-rt');
    const replacement = stored({ accessToken: randomToken('stub-at'), refreshToken: randomToken('stub-rt'), tokenType: 'bearer', scopes: null }, inMinutes(60));
    secrets.push(refreshToken, replacement.accessToken, replacement.refreshToken as string);
    const ref = await h.authorize('raced', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: null }, inMinutes(-1)));
    // While the provider answers, another writer (one whose lease had run out, say) stores fresher tokens.
    script.set(refreshToken, {
      status: 400,
      body: { error: 'invalid_grant' },
      meanwhile: async () => {
        expect(await h.vault.compareAndSwap(h.dataSource.manager, { id: ref, orgId: ORG, purpose: 'test', value: replacement }, 1)).toBe(true);
      },
    });
    expect(await ask('raced')).toMatchObject({ outcome: 'already_fresh' });
    expect(await h.events('ConnectionRevoked', connectionStreamId(ORG, 'raced'))).toEqual([]);
    expect(await h.events('TokenRefreshFailed', connectionStreamId(ORG, 'raced'))).toEqual([]);
    expect((await h.credential(ref)).value).toEqual(replacement);
  });

  it('new tokens for a credential re-authorized while the provider answered record nothing, and the new credential stays', async () => {
    await h.connection('reauthorized', 'stub_oauth');
    const refreshToken = randomToken('stub-rt');
    secrets.push(refreshToken);
    const ref = await h.authorize('reauthorized', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: null }, inMinutes(-1)));
    let replacedBy = '';
    script.set(refreshToken, {
      status: 200,
      body: { access_token: randomToken('stub-at'), token_type: 'Bearer', expires_in: 3600 },
      meanwhile: async () => {
        replacedBy = await h.authorize('reauthorized', null, stored({ accessToken: randomToken('stub-at'), refreshToken: randomToken('stub-rt'), tokenType: 'bearer', scopes: null }, inMinutes(60)));
      },
    });
    expect(await ask('reauthorized')).toMatchObject({ outcome: 'revoked' });
    expect(await h.events('TokenRefreshed', connectionStreamId(ORG, 'reauthorized'))).toEqual([]);
    expect((await h.credential(ref)).version).toBe(1);
    const { state } = await h.store.aggregateStream(connectionStreamId(ORG, 'reauthorized'), connectionDecider);
    expect(state.status === 'active' && state.credentials[OWN_CREDENTIAL]).toMatchObject({ credentialRef: replacedBy, status: 'connected' });
  });

  it('two refresh results recorded at once for one credential: exactly one TokenRefreshed', async () => {
    await h.connection('twice', 'stub_oauth');
    const ref = await h.authorize('twice', null, stored({ accessToken: randomToken('stub-at'), refreshToken: randomToken('stub-rt'), tokenType: 'bearer', scopes: null }, inMinutes(-1)));
    // Both read the credential before either was recorded: the same refresh count.
    const result = (now: string) => ({
      type: 'RecordTokenRefresh' as const,
      data: { orgId: ORG, linkName: 'twice', userId: null, credentialRef: ref, expiresAt: inMinutes(60).toISOString(), refreshTokenRotated: false, refreshes: 0, now },
    });
    const recorded = await Promise.all([connectionCommands.handle(h.store, result(new Date().toISOString())), connectionCommands.handle(h.store, result(new Date().toISOString()))]);
    expect(recorded.map((r) => r.events.length).sort()).toEqual([0, 1]);
    expect(await h.events('TokenRefreshed', connectionStreamId(ORG, 'twice'))).toHaveLength(1);
  });

  it('a transient failure (503 with Retry-After) is recorded and backed off, revokes nothing, and cools down on-demand requests', async () => {
    await h.connection('flaky', 'stub_oauth');
    const refreshToken = randomToken('stub-rt');
    secrets.push(refreshToken);
    script.set(refreshToken, { status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '30' } });
    const ref = await h.authorize('flaky', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: null }, inMinutes(2)));
    await eventually(async () => expect(await scheduleRow(ref)).toBeDefined());
    const calls = stub.requests.length;

    expect(await ask('flaky', null, 1)).toMatchObject({ outcome: 'failed' });

    expect(stub.requests.length).toBe(calls + 1);
    const events = await h.events(undefined, connectionStreamId(ORG, 'flaky'));
    expect(events.map((e) => e.type)).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'TokenRefreshFailed']);
    expect(events[2].data).toMatchObject({ definitive: false, error: 'temporarily_unavailable', credentialRef: ref });
    const row = await scheduleRow(ref);
    expect(row).toMatchObject({ attempts: 1, last_error: 'temporarily_unavailable' });
    expect(row.next_attempt_at.getTime()).toBeGreaterThanOrEqual(Date.now() + 25_000);
    expect(row.cooldown_until.getTime()).toBe(row.next_attempt_at.getTime());
    expect((await h.credential(ref)).version).toBe(1);
    expect(metrics.failed.transient).toBeGreaterThanOrEqual(1);

    // During the cool-down the provider is left alone.
    expect(await ask('flaky', null, 1)).toMatchObject({ outcome: 'failed' });
    expect(stub.requests.length).toBe(calls + 1);

    // Once it is over (and the provider is back), the same credential refreshes.
    script.delete(refreshToken);
    await h.dataSource.query(`UPDATE refresh_schedule SET cooldown_until = now() - interval '1 second' WHERE credential_ref = $1`, [ref]);
    expect(await ask('flaky', null, 1)).toMatchObject({ outcome: 'refreshed' });
    const cleared = await scheduleRow(ref);
    expect(cleared).toMatchObject({ attempts: 0, cooldown_until: null, last_error: null });
  });

  it('a network error is transient too', async () => {
    await h.oauthService('gone_oauth', { tokenUrl: 'http://127.0.0.1:9/token', client: { clientId: 'gone', clientSecret: 'stub-client-secret-0123456789' } });
    await h.connection('offline', 'gone_oauth');
    const refreshToken = randomToken('stub-rt');
    secrets.push(refreshToken);
    await h.authorize('offline', null, stored({ accessToken: randomToken('stub-at'), refreshToken, tokenType: 'bearer', scopes: null }, inMinutes(-1)));
    expect(await ask('offline')).toMatchObject({ outcome: 'failed' });
    const [failed] = await h.events('TokenRefreshFailed', connectionStreamId(ORG, 'offline'));
    expect(failed.data).toMatchObject({ definitive: false, error: 'network' });
    expect(await h.events('ConnectionRevoked', connectionStreamId(ORG, 'offline'))).toEqual([]);
  });

  it('a token without a refresh token cannot be refreshed: reauthorization required, recorded once, taken off the schedule, not revoked', async () => {
    await h.connection('one_shot', 'stub_oauth');
    const ref = await h.authorize('one_shot', null, stored({ accessToken: randomToken('stub-at'), refreshToken: null, tokenType: 'bearer', scopes: null }, inMinutes(3)));
    await eventually(async () => expect(await scheduleRow(ref)).toBeDefined());
    const calls = stub.requests.length;
    expect(await ask('one_shot', null, 1)).toMatchObject({ outcome: 'reauthorization_required' });
    expect(await ask('one_shot', null, 1)).toMatchObject({ outcome: 'reauthorization_required' });
    expect(stub.requests.length).toBe(calls);
    const events = await h.events(undefined, connectionStreamId(ORG, 'one_shot'));
    expect(events.map((e) => e.type)).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'TokenRefreshFailed', 'ReauthorizationRequired']);
    expect(events[2].data).toMatchObject({ definitive: false, error: 'no_refresh_token' });
    expect(events[3].data).toMatchObject({ userId: null, credentialRef: ref, reason: 'no_refresh_token', expiresAt: expect.any(String) });
    expect(await scheduleRow(ref)).toBeUndefined();
  });

  it('refuses a malformed request, and names an unknown connection or a missing credential', async () => {
    await expect(h.rpc.request(Subjects.tokenRefresh.refresh, { orgId: ORG, linkName: 'Not A Link', userId: null })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.rpc.request(Subjects.tokenRefresh.refresh, { orgId: ORG, linkName: 'crm' } as never)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(ask('nowhere')).rejects.toMatchObject({ code: 'connection_not_found' });
    await h.connection('fresh_start', 'local_oauth', { useLoginUserCredentials: true });
    await expect(ask('fresh_start', 'carol')).rejects.toMatchObject({ code: 'not_authorized' });
  });

  it('writes no token or secret into any event, schedule row, lease, log line or reply', async () => {
    const stores = JSON.stringify(
      await h.dataSource.query(
        `SELECT data, metadata FROM events UNION ALL SELECT to_jsonb(s), '{}' FROM refresh_schedule s UNION ALL SELECT to_jsonb(l), '{}' FROM refresh_leases l`,
      ),
    );
    const logs = h.logs();
    expect(logs).toMatch(/token refresh failed/);
    expect(logs).not.toMatch(/subscription batch failed|handler failed|unexpectedly/);
    expect(secrets.length).toBeGreaterThan(15);
    for (const secret of secrets) {
      expect(stores).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(metrics.snapshot()).toMatchObject({ refreshed: expect.any(Number), leaseContention: expect.any(Number), casConflicts: 0 });
  });
});
