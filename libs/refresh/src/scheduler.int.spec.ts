import type { INestMicroservice } from '@nestjs/common';
import { connectionStreamId, Subjects } from '@plugboard/contracts';
import { startStubHttpServer, type StubHttpServer } from '@plugboard/oauth2/testing';
import { eventually } from '@plugboard/testing';
import { RefreshMetrics } from './refresh/refresh-metrics';
import { RefreshScheduler } from './refresh/refresh-scheduler';
import { createHarness, ORG, randomToken, stored, type RefreshHarness } from './test-support/harness';

/**
 * The proactive side in one process, one look at the schedule at a time (the test calls `tick` itself), against a
 * scripted token endpoint.
 */
describe('proactive refresh', () => {
  let h: RefreshHarness;
  let stub: StubHttpServer;
  let app: INestMicroservice;
  let scheduler: RefreshScheduler;
  let metrics: RefreshMetrics;
  const failing = new Set<string>();
  const refs: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  const hourAgo = () => new Date(Date.now() - 3_600_000);
  const row = async (ref: string) => (await h.dataSource.query(`SELECT * FROM refresh_schedule WHERE credential_ref = $1`, [ref]))[0];
  const streamEvents = (linkName: string) => h.events(undefined, connectionStreamId(ORG, linkName)).then((events) => events.map((e) => e.type));

  beforeAll(async () => {
    h = await createHarness();
    stub = await startStubHttpServer((req, res) => {
      const presented = new URLSearchParams(req.body).get('refresh_token') ?? '';
      if (failing.has(presented)) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
        res.end('{"error":"slow_down"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: randomToken('stub-at'), refresh_token: randomToken('stub-rt'), token_type: 'Bearer', expires_in: 3600 }));
    });
    await h.oauthService('stub_oauth', { tokenUrl: `${stub.url}/token`, client: { clientId: 'stub-client', clientSecret: 'stub-client-secret-0123456789' } });
    // The loop is off: each test looks at the schedule when it wants to.
    app = await h.start({ schedulerEnabled: false, marginMs: 300_000, jitterMs: 0, leaseTtlMs: 4_000, intervalMs: 0 });
    scheduler = app.get(RefreshScheduler);
    metrics = app.get(RefreshMetrics);
    const credentials: [string, number][] = [
      ['due', 2 * 60_000],
      ['expired', -60_000],
      ['later', 60 * 60_000],
    ];
    for (const [name, expiresIn] of credentials) {
      tokens[name] = randomToken('stub-rt');
      await h.connection(name, 'stub_oauth');
      refs[name] = await h.authorize(name, null, stored({ accessToken: randomToken('stub-at'), refreshToken: tokens[name], tokenType: 'bearer', scopes: null }, new Date(Date.now() + expiresIn)), { authorizedAt: hourAgo() });
    }
    await eventually(async () => expect((await h.dataSource.query(`SELECT count(*)::int AS n FROM refresh_schedule`))[0].n).toBe(3));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await stub?.stop();
  });

  it('refreshes what is due, backs off a transient failure without revoking, leaves the rest, and counts the overdue', async () => {
    failing.add(tokens.expired);
    await scheduler.tick();
    await eventually(async () => {
      expect(await streamEvents('due')).toContain('TokenRefreshed');
      expect(await streamEvents('expired')).toContain('TokenRefreshFailed');
    });
    expect(await streamEvents('later')).toEqual(['ConnectionCreated', 'ConnectionAuthorized']);
    expect(await streamEvents('expired')).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'TokenRefreshFailed']);
    const backedOff = await row(refs.expired);
    expect(backedOff).toMatchObject({ attempts: 1, last_error: 'slow_down' });
    // 429 with Retry-After: 60 outweighs the first backoff step.
    expect(backedOff.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 55_000);
    const moved = await row(refs.due);
    expect(moved.expires_at.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(metrics.failed.transient).toBe(1);

    await scheduler.tick();
    expect(metrics.overdue).toBe(1);
    expect(metrics.refreshed).toBe(1);
  });

  it('tries again once the backoff is over, and succeeds', async () => {
    failing.clear();
    await h.dataSource.query(`UPDATE refresh_schedule SET next_attempt_at = now() - interval '1 second' WHERE credential_ref = $1`, [refs.expired]);
    await scheduler.tick();
    await eventually(async () => expect(await streamEvents('expired')).toContain('TokenRefreshed'));
    expect(await row(refs.expired)).toMatchObject({ attempts: 0, cooldown_until: null });
    await scheduler.tick();
    expect(metrics.overdue).toBe(0);
  });

  it('passes by a credential whose lease another replica holds, and an on-demand request waits for it', async () => {
    await h.dataSource.query(`UPDATE refresh_schedule SET next_attempt_at = now() - interval '1 second' WHERE credential_ref = $1`, [refs.later]);
    await h.dataSource.query(`INSERT INTO refresh_leases (credential_ref, holder, expires_at) VALUES ($1, 'another-replica', now() + interval '1 minute')`, [refs.later]);
    const requests = stub.requests.length;
    const contention = metrics.leaseContention;

    await scheduler.tick();
    await eventually(() => expect(metrics.leaseContention).toBe(contention + 1));
    // Claimed for a lease's length: not looked at again until then.
    expect((await row(refs.later)).next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 3_000);

    const asked = h.rpc.request(Subjects.tokenRefresh.refresh, { orgId: ORG, linkName: 'later', userId: null, seenVersion: 1 }, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(stub.requests.length).toBe(requests);
    await h.dataSource.query(`DELETE FROM refresh_leases WHERE holder = 'another-replica'`);
    expect(await asked).toMatchObject({ outcome: 'refreshed' });
    expect(metrics.leaseContention).toBe(contention + 2);
    expect(stub.requests.length).toBe(requests + 1);
  });

  it('keeps its counters for the metrics endpoint to come', () => {
    expect(metrics.snapshot()).toEqual({
      refreshed: 3,
      alreadyFresh: 0,
      coalesced: 0,
      failed: { transient: 1, definitive: 0, protocol: 0, configuration: 0 },
      leaseContention: expect.any(Number),
      overdue: 0,
      casConflicts: 0,
      verified: 0,
      verificationRevoked: 0,
      verificationInconclusive: 0,
    });
  });
});
