import { CONNECTION_DEGRADED_AFTER } from '@plugboard/contracts';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';
import { WebhookReceiver } from './test-support/webhook-receiver';

/**
 * Connection health (issue #15, item 6): API answers no refresh can fix (401 after the proxy refreshed and retried)
 * degrade a connection after CONNECTION_DEGRADED_AFTER in a row, the org's webhook hears it, and a success recovers it.
 */
describe('connection health', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let as: TestAuthorizationServer;
  let acme: string;
  let globex: string;
  const hook = new WebhookReceiver();
  const globexHook = new WebhookReceiver();
  const secrets: string[] = [];
  const connection = async (key = acme) => (await sys.call('GET', '/v1/connections/crm', key)).body;
  const invoke = (path: string) => sys.call('POST', '/v1/invoke', acme, { connection: 'crm', method: 'GET', url: `${up.base}${path}` });
  const received = (receiver: WebhookReceiver, type: string) => receiver.received.filter((r) => r.type === type && r.verified);

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem({ PLUGBOARD_WEBHOOK_POLL_MS: '50' });
    // Hour-long tokens: the scheduler must not refresh them while the test counts.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    acme = await sys.key('acme', 'admin');
    globex = await sys.key('globex', 'admin');
    await hook.start();
    await globexHook.start();
    // Client credentials: a 401 makes the proxy mint a token again and retry once, so the 401 it records is final.
    const service = {
      name: 'CRM',
      linkName: 'crm_api',
      authType: 'oauth2',
      baseUrl: up.base,
      oauth2: { grantType: 'client_credentials', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
    };
    secrets.push(as.clients.basic.clientSecret);
    for (const key of [acme, globex]) {
      expect((await sys.call('POST', '/v1/services', key, service)).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections', key, { name: 'CRM', linkName: 'crm', service: 'crm_api' })).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections/crm/authorize', key, {})).status).toBe(200);
    }
    for (const [key, receiver] of [[acme, hook], [globex, globexHook]] as const) {
      const registered = await sys.call('PUT', '/v1/webhook', key, { url: receiver.url, events: ['ConnectionDegraded', 'ConnectionRecovered'] });
      expect(registered.status).toBe(200);
      receiver.secret = registered.body.secret;
      secrets.push(registered.body.secret);
    }
  }, 60_000);
  afterAll(async () => {
    await hook.stop();
    await globexHook.stop();
    await as?.stop();
    await sys?.close();
    await up?.close();
  });

  it('starts healthy, unused', async () => {
    expect(await connection()).toMatchObject({ health: 'healthy', lastUsedAt: null, lastError: null, consecutiveFailures: 0 });
  });

  it('counts 401s after a refresh, degrades the connection at the threshold, and tells the org’s webhook', async () => {
    const before = up.seen.length;
    for (let i = 1; i < CONNECTION_DEGRADED_AFTER; i++) expect((await invoke('/unauthorized')).body.status).toBe(401);
    // The proxy refreshed and retried each one: two requests per call reached the API.
    expect(up.seen.length - before).toBe(2 * (CONNECTION_DEGRADED_AFTER - 1));
    await eventually(async () => expect(await connection()).toMatchObject({ health: 'healthy', consecutiveFailures: CONNECTION_DEGRADED_AFTER - 1 }));
    expect((await invoke('/unauthorized')).body.status).toBe(401);
    await eventually(async () => expect(received(hook, 'ConnectionDegraded')).toHaveLength(1), 10_000);
    // The read model follows the log (the webhook may hear first).
    const view = await eventually(async () => {
      const current = await connection();
      expect(current).toMatchObject({
        health: 'degraded',
        consecutiveFailures: CONNECTION_DEGRADED_AFTER,
        lastError: { status: 401, host: new URL(up.base).host, message: expect.stringContaining('401 Unauthorized') },
      });
      return current;
    });
    expect(Date.parse(view.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
    const event = JSON.parse(received(hook, 'ConnectionDegraded')[0].body);
    expect(event).toMatchObject({ orgId: 'acme', data: { linkName: 'crm', consecutiveFailures: CONNECTION_DEGRADED_AFTER, lastError: { status: 401 } } });
    // Listed too, and on the ops dashboard.
    const listed = (await sys.call('GET', '/v1/connections', acme)).body.items.find((c: { linkName: string }) => c.linkName === 'crm');
    expect(listed).toMatchObject({ health: 'degraded', consecutiveFailures: CONNECTION_DEGRADED_AFTER });
    expect((await sys.call('GET', '/dashboard/data.json', acme)).body.degraded).toEqual([
      expect.objectContaining({ linkName: 'crm', consecutiveFailures: CONNECTION_DEGRADED_AFTER, lastError: expect.stringContaining('401') }),
    ]);
    const page = await fetch(`${sys.publicUrl}/dashboard`, { headers: { authorization: `Bearer ${acme}` } });
    expect(await page.text()).toMatch(/<section id="degraded">[^]*data-degraded="crm"/);
    // More refusals change nothing but the count: one event per change.
    await invoke('/unauthorized');
    await eventually(async () => expect((await connection()).consecutiveFailures).toBe(CONNECTION_DEGRADED_AFTER + 1));
    expect(received(hook, 'ConnectionDegraded')).toHaveLength(1);
  }, 30_000);

  it('never shows one org’s health to another', async () => {
    expect(await connection(globex)).toMatchObject({ health: 'healthy', consecutiveFailures: 0, lastUsedAt: null, lastError: null });
    expect((await sys.call('GET', '/dashboard/data.json', globex)).body.degraded).toEqual([]);
    expect(globexHook.received).toHaveLength(0);
  });

  it('recovers at the next success, and the webhook hears that too', async () => {
    expect((await invoke('/ok')).body.status).toBe(200);
    await eventually(async () => expect(received(hook, 'ConnectionRecovered')).toHaveLength(1), 10_000);
    await eventually(async () => expect(await connection()).toMatchObject({ health: 'healthy', consecutiveFailures: 0, lastError: { status: 401 } }));
    expect(JSON.parse(received(hook, 'ConnectionRecovered')[0].body)).toMatchObject({ orgId: 'acme', data: { linkName: 'crm' } });
    await eventually(async () => expect((await sys.call('GET', '/dashboard/data.json', acme)).body.degraded).toEqual([]));
  }, 30_000);

  it('keeps no secret in what it records', async () => {
    const stored = JSON.stringify([await sys.sql(`SELECT * FROM connection_health`), await sys.sql(`SELECT data FROM events WHERE type IN ('ConnectionDegraded', 'ConnectionRecovered')`)]);
    const views = JSON.stringify([await connection(), hook.received.map((r) => r.body)]);
    for (const secret of secrets) {
      expect(stored).not.toContain(secret);
      expect(views).not.toContain(secret);
    }
    // The access tokens the API saw (and refused) appear nowhere either.
    for (const seen of up.seen) {
      const token = /^Bearer (.+)$/.exec(seen.headers.authorization ?? '')?.[1];
      if (!token) continue;
      expect(stored).not.toContain(token);
      expect(views).not.toContain(token);
    }
  });
});
