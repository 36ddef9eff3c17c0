import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectionStreamId, serviceStreamId, type ServiceEvent } from '@plugboard/contracts';
import { eventually } from '@plugboard/testing';
import { RefreshMetrics } from './refresh/refresh-metrics';
import { createHarness, ORG, OWNER, type RefreshHarness } from './test-support/harness';

/**
 * Scheduled verification of credentials that never expire, with a short interval, against a local API whose keys
 * the test rotates: accepted keys stay, a 503 changes nothing, a refused key is revoked (that one credential only).
 */
describe('scheduled verification', () => {
  let h: RefreshHarness;
  let api: Server;
  let metrics: RefreshMetrics;
  const accepted = new Set<string>();
  let down = false;
  const seen: string[] = [];
  const refs: Record<string, string> = {};
  const KEY = 'vk-7d1e-owner-key-one';
  const ALICE_KEY = 'vk-2b9c-alice-key';
  const BOB_KEY = 'vk-5f0a-bob-key';

  const row = async (ref: string) => (await h.dataSource.query(`SELECT * FROM verify_schedule WHERE credential_ref = $1`, [ref]))[0];
  const revocations = (linkName: string) => h.events('ConnectionRevoked', connectionStreamId(ORG, linkName));

  beforeAll(async () => {
    h = await createHarness();
    api = createServer((req, res) => {
      const key = req.headers['x-api-key'] as string;
      seen.push(key);
      if (down) return res.writeHead(503).end();
      res.writeHead(accepted.has(key) ? 200 : 401).end();
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const service: ServiceEvent = {
      type: 'ServiceCreated',
      data: {
        orgId: ORG,
        linkName: 'keyed_api',
        name: 'Keyed API',
        authType: 'api_key',
        baseUrl: base,
        allowedHosts: [new URL(base).host],
        owner: OWNER,
        verify: { method: 'GET', path: '/me' },
        apiKey: { params: [{ name: 'x-api-key', displayName: 'Key', paramType: 'header' }] },
        createdAt: new Date().toISOString(),
      },
    };
    await h.store.append(serviceStreamId(ORG, 'keyed_api'), 0, [service]);
    await h.connection('keyed', 'keyed_api', { authType: 'api_key', scopes: [] });
    await h.connection('shared', 'keyed_api', { authType: 'api_key', scopes: [], useLoginUserCredentials: true });
    for (const key of [KEY, ALICE_KEY, BOB_KEY]) accepted.add(key);
    refs.keyed = await h.authorize('keyed', null, { kind: 'api_key', values: { 'x-api-key': KEY } });
    refs.alice = await h.authorize('shared', 'alice', { kind: 'api_key', values: { 'x-api-key': ALICE_KEY } });
    refs.bob = await h.authorize('shared', 'bob', { kind: 'api_key', values: { 'x-api-key': BOB_KEY } });
    const app = await h.start({ verifyIntervalMs: 300, intervalMs: 50, leaseTtlMs: 2_000, backoffBaseMs: 100, backoffMaxMs: 200 });
    metrics = app.get(RefreshMetrics);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => api?.close(resolve));
  });

  it('schedules every credential without expiry one interval after its authorization, and keeps checking accepted ones', async () => {
    await eventually(async () => expect((await h.dataSource.query(`SELECT count(*)::int AS n FROM verify_schedule`))[0].n).toBe(3));
    await eventually(() => expect(seen.filter((k) => k === KEY).length).toBeGreaterThanOrEqual(2), 10_000);
    expect(await row(refs.keyed)).toMatchObject({ attempts: 0, last_error: null, last_checked_at: expect.any(Date) });
    expect(await revocations('keyed')).toEqual([]);
    expect(metrics.verified).toBeGreaterThanOrEqual(2);
  });

  it('an API that answers 503 revokes nothing: the check is retried with a backoff', async () => {
    down = true;
    try {
      await eventually(async () => expect(await row(refs.keyed)).toMatchObject({ last_error: 'HTTP 503', attempts: expect.any(Number) }), 10_000);
      await eventually(async () => expect((await row(refs.keyed)).attempts).toBeGreaterThanOrEqual(2), 10_000);
      expect(await revocations('keyed')).toEqual([]);
    } finally {
      down = false;
    }
    await eventually(async () => expect(await row(refs.keyed)).toMatchObject({ attempts: 0, last_error: null }), 10_000);
  });

  it('a key rotated at the service is revoked with reason verification_failed, that one credential only', async () => {
    accepted.delete(KEY);
    accepted.delete(BOB_KEY);
    await eventually(async () => expect(await revocations('keyed')).toHaveLength(1), 10_000);
    await eventually(async () => expect(await revocations('shared')).toHaveLength(1), 10_000);
    const [keyed] = await revocations('keyed');
    expect(keyed.data).toMatchObject({ userId: null, reason: 'verification_failed', credentialRef: refs.keyed, revokedBy: 'plugboard' });
    const [bob] = await revocations('shared');
    expect(bob.data).toMatchObject({ userId: 'bob', reason: 'verification_failed', credentialRef: refs.bob });
    await eventually(async () => expect(await row(refs.keyed)).toBeUndefined());
    expect(await row(refs.bob)).toBeUndefined();
    expect(await row(refs.alice)).toBeDefined();

    // Alice's key is still accepted and still checked; nothing more is revoked.
    const before = seen.filter((k) => k === ALICE_KEY).length;
    await eventually(() => expect(seen.filter((k) => k === ALICE_KEY).length).toBeGreaterThan(before + 1), 10_000);
    expect(await revocations('shared')).toHaveLength(1);
    const logs = h.logs();
    expect(logs).toContain('refused a credential at its verification call');
    for (const key of [KEY, ALICE_KEY, BOB_KEY]) expect(logs).not.toContain(key);
  });

  it('a re-authorization replaces the scheduled credential, and the new one is checked', async () => {
    const NEW_KEY = 'vk-8c4d-alice-new-key';
    accepted.add(NEW_KEY);
    const next = await h.authorize('shared', 'alice', { kind: 'api_key', values: { 'x-api-key': NEW_KEY } });
    await eventually(async () => expect(await row(next)).toBeDefined());
    expect(await row(refs.alice)).toBeUndefined();
    await eventually(() => expect(seen).toContain(NEW_KEY), 10_000);
    expect(await revocations('shared')).toHaveLength(1);
  });
});
