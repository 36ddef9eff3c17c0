import { endOf, raceStop, type RaceClient } from './test-support/revocation-race';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

/**
 * Issue 12, item 1: once a revoke, a delete or an edit of the service is acknowledged, no call sends the credential
 * again, whatever calls were racing it. 150 users call one connection on both paths while it is stopped.
 */
describe('revoked means stopped', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let admin: string;
  let round = 0;

  const client = (): RaceClient => ({
    invoke: (linkName, userId, call) => post('/v1/invoke', userId, { connection: linkName, method: 'GET', url: '/items', query: { call } }),
    proxy: async (linkName, userId, call) => endOf(await fetch(`${sys.publicUrl}/v1/proxy/${linkName}/items?call=${encodeURIComponent(call)}`, { headers: { authorization: `Bearer ${admin}`, 'x-user-id': userId } })),
  });
  const post = async (path: string, userId: string, body: object) =>
    endOf(await fetch(`${sys.publicUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'x-user-id': userId, 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  /** A fresh API-key service and connection, authorized with a secret of its own. */
  async function connected(): Promise<{ linkName: string; service: string; secret: string }> {
    const service = `race_svc_${round}`;
    const linkName = `race_${round}`;
    const secret = `race-secret-${round++}`;
    const created = await sys.call('POST', '/v1/services', admin, { name: service, linkName: service, authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } });
    expect(created.status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', admin, { name: linkName, linkName, service })).status).toBe(201);
    expect((await sys.call('POST', `/v1/connections/${linkName}/authorize`, admin, { values: { 'X-Api-Key': secret } })).status).toBe(200);
    return { linkName, service, secret };
  }

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem({ DATABASE_POOL_SIZE: '8' });
    admin = await sys.key('acme', 'admin');
  });

  afterAll(async () => {
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
});
