import { connectionStreamId, Subjects } from '@plugboard/contracts';
import { refresh } from '@plugboard/oauth2';
import { startAuthorizationServer, startStubHttpServer, type StubHttpServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually, runEntry, type RunningProcess } from '@plugboard/testing';
import { authorizeAt, createHarness, ORG, stored, type RefreshHarness } from './test-support/harness';

const REPLICAS = 3;
const CREDENTIALS = 24;
const LEASE_TTL_SECONDS = 9;

/**
 * Three token-refresh processes against one PostgreSQL and NATS, refreshing at a real OAuth 2 server whose refresh
 * tokens rotate (a second use fails and revokes the grant). The token endpoint is reached through a relay in this
 * process, which counts how often each refresh token is presented and can hold a request to kill its sender.
 */
describe('token-refresh replicas (separate processes)', () => {
  let h: RefreshHarness;
  let as: TestAuthorizationServer;
  let relay: StubHttpServer;
  const replicas: RunningProcess[] = [];
  const presented = new Map<string, number>();
  const secrets: string[] = [];
  let hold: { refreshToken: string; onHeld: () => void } | null = null;

  const refreshedEvents = async (ref: string) => (await h.events('TokenRefreshed')).filter((e) => e.data.credentialRef === ref);

  beforeAll(async () => {
    h = await createHarness();
    as = await startAuthorizationServer({ redirectUris: ['http://127.0.0.1/callback'], accessTokenTtlSeconds: 3600 });
    relay = await startStubHttpServer(async (req, res) => {
      const refreshToken = new URLSearchParams(req.body).get('refresh_token');
      if (refreshToken) presented.set(refreshToken, (presented.get(refreshToken) ?? 0) + 1);
      if (hold && refreshToken === hold.refreshToken) {
        // Never answered, never forwarded: its sender is about to die holding the lease.
        const { onHeld } = hold;
        hold = null;
        onHeld();
        return;
      }
      const upstream = await fetch(as.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) },
        body: req.body,
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(await upstream.text());
    });
    secrets.push(as.clients.basic.clientSecret);
    await h.oauthService('relayed', { tokenUrl: `${relay.url}/token`, client: as.clients.basic });
    for (let i = 0; i < REPLICAS; i++) {
      replicas.push(
        runEntry('apps/token-refresh/src/main.ts', {
          ...h.env,
          LOG_LEVEL: 'debug',
          DATABASE_POOL_SIZE: '4',
          PLUGBOARD_REFRESH_MARGIN_SECONDS: '20',
          PLUGBOARD_REFRESH_JITTER_SECONDS: '5',
          PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
          PLUGBOARD_REFRESH_INTERVAL_MS: '200',
          PLUGBOARD_REFRESH_CONCURRENCY: '4',
        }),
      );
    }
    await Promise.all(replicas.map((r) => r.waitForOutput(/token-refresh is listening/, 150_000)));
  }, 180_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGTERM')));
    await h?.close();
    await as?.stop();
    await relay?.stop();
  });

  it('share the due credentials and the on-demand requests, and refresh each credential exactly once, before it expires', async () => {
    const tokens = [];
    for (let i = 0; i < CREDENTIALS; i++) tokens.push(await authorizeAt(as, as.clients.basic));
    for (const t of tokens) secrets.push(t.accessToken, t.refreshToken as string);
    const expiresAt = new Date(Date.now() + 30_000);
    const refs: string[] = [];
    for (let i = 0; i < CREDENTIALS; i++) {
      await h.connection(`c${i}`, 'relayed');
      // Issued an hour ago, so the full margin applies: due 20–25 s before expiry, i.e. within the next 10 s.
      refs.push(await h.authorize(`c${i}`, null, stored(tokens[i], expiresAt), { authorizedAt: new Date(Date.now() - 3_600_000) }));
    }
    // Meanwhile products ask too, at random moments around the due times, each after a 401 with version 1.
    const asked = Promise.all(
      refs.map(async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10_000));
        return h.rpc.request(Subjects.tokenRefresh.refresh, { orgId: ORG, linkName: `c${i}`, userId: null, seenVersion: 1 }, { timeoutMs: 30_000 });
      }),
    );

    await eventually(async () => expect((await h.events('TokenRefreshed')).length).toBeGreaterThanOrEqual(CREDENTIALS), 40_000, 200);
    const replies = await asked;
    expect(replies.map((r) => r.outcome).every((o) => o === 'refreshed' || o === 'already_fresh')).toBe(true);
    // Give a double refresh, if there were one, the time to show.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    for (const [i, ref] of refs.entries()) {
      const events = await refreshedEvents(ref);
      expect(events).toHaveLength(1);
      expect(Date.parse(events[0].data.refreshedAt as string)).toBeLessThan(expiresAt.getTime());
      expect(presented.get(tokens[i].refreshToken as string)).toBe(1);
      const { value, version } = await h.credential(ref);
      secrets.push(value.accessToken, value.refreshToken as string);
      expect(version).toBe(2);
    }
    expect([...presented.values()].reduce((a, b) => a + b, 0)).toBe(CREDENTIALS);
    expect(await h.events('TokenRefreshFailed')).toEqual([]);
    expect(await h.events('ConnectionRevoked')).toEqual([]);
    // The work was shared (the on-demand requests alone spread over the queue group).
    const perReplica = replicas.map((r) => (r.output().match(/"msg":"token refreshed"/g) ?? []).length);
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(CREDENTIALS);
    expect(perReplica.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('a replica killed while holding a lease: another takes over once the lease expires, and the credential still works', async () => {
    const tokens = await authorizeAt(as, as.clients.basic);
    secrets.push(tokens.accessToken, tokens.refreshToken as string);
    const held = new Promise<void>((resolve) => (hold = { refreshToken: tokens.refreshToken as string, onHeld: resolve }));
    await h.connection('victim', 'relayed');
    const ref = await h.authorize('victim', null, stored(tokens, new Date(Date.now() + 25_000)), { authorizedAt: new Date(Date.now() - 3_600_000) });

    await held;
    const [lease] = await h.dataSource.query(`SELECT holder, expires_at FROM refresh_leases WHERE credential_ref = $1`, [ref]);
    const pid = Number(/:(\d+):[0-9a-f]{6}:[0-9a-f]{8}$/.exec(lease.holder)?.[1]);
    const victim = replicas.find((r) => r.child.pid === pid);
    if (!victim) throw new Error(`no replica holds the lease (${lease.holder})`);
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    await eventually(async () => expect(await refreshedEvents(ref)).toHaveLength(1), 40_000, 200);
    const [event] = await refreshedEvents(ref);
    expect(Date.parse(event.data.refreshedAt as string)).toBeGreaterThan(lease.expires_at.getTime());
    expect(await h.events('TokenRefreshFailed', connectionStreamId(ORG, 'victim'))).toEqual([]);
    expect(await h.events('ConnectionRevoked', connectionStreamId(ORG, 'victim'))).toEqual([]);
    // The held request never reached the server, so the refresh token was still good for the one that took over.
    expect(presented.get(tokens.refreshToken as string)).toBe(2);
    const { value, version } = await h.credential(ref);
    expect(version).toBe(2);
    secrets.push(value.accessToken, value.refreshToken as string);
    // Still valid: the server accepts the refresh token the vault now holds.
    const next = await refresh({ ...as.clients.basic, allowInsecureLocalhost: true, tokenUrl: as.tokenUrl, refreshToken: value.refreshToken as string });
    expect(next.accessToken).toEqual(expect.any(String));
    secrets.push(next.accessToken, next.refreshToken);
    await eventually(async () => expect(await h.dataSource.query(`SELECT * FROM refresh_leases`)).toEqual([]));
  }, 90_000);

  it('none of the replicas logged a token or a secret', () => {
    const output = replicas.map((r) => r.output()).join('\n');
    expect(output).toMatch(/token refreshed/);
    // Nothing went wrong unexpectedly on the way (errors are level 50, fatal 60).
    expect(output).not.toMatch(/"level":(50|60)/);
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
