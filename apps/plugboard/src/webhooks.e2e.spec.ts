import { eventually } from '@plugboard/testing';
import { startTestSystem, type Reply, type TestSystem } from './test-support/test-system';
import { verifySignature, WebhookReceiver } from './test-support/webhook-receiver';

const AUTH_EVENTS = ['ConnectionAuthorized', 'TokenRefreshed', 'TokenRefreshFailed', 'ConnectionRevoked', 'ConnectionDeleted', 'ServiceEdited', 'ReauthorizationRequired', 'ConnectionDegraded', 'ConnectionRecovered'];
const keyService = {
  name: 'Acme API',
  linkName: 'acme_api',
  authType: 'api_key',
  baseUrl: 'https://api.acme.example',
  apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
};
const API_KEY_VALUE = 'ak-live-77f0c1-webhook-test-secret';

describe('org webhooks', () => {
  let sys: TestSystem;
  let admin: string;
  let member: string;
  let globex: string;
  const acmeHook = new WebhookReceiver();
  const globexHook = new WebhookReceiver();
  const secrets: string[] = [];
  const errorBodies: unknown[] = [];

  /** Every call; error bodies are kept to check that none holds a secret. */
  async function call(method: string, path: string, key: string | null, body?: unknown): Promise<Reply> {
    const reply = await sys.call(method, path, key, body);
    if (reply.status >= 400) errorBodies.push(reply.body);
    return reply;
  }
  /** The org's events a webhook must get, in log order. */
  async function expectedEvents(orgId: string): Promise<string[]> {
    const rows = await sys.sql(
      `SELECT event_id FROM events WHERE type = ANY($1) AND data->>'orgId' = $2 AND (type <> 'TokenRefreshFailed' OR (data->>'definitive')::boolean) ORDER BY global_position`,
      [AUTH_EVENTS, orgId],
    );
    return rows.map((r) => r.event_id);
  }
  const connect = async (linkName: string) => {
    expect((await call('POST', '/v1/connections', admin, { name: linkName, linkName, service: 'acme_api' })).status).toBe(201);
    expect((await call('POST', `/v1/connections/${linkName}/authorize`, admin, { values: { api_key: API_KEY_VALUE } })).status).toBe(200);
  };
  const deliveries = async () => (await call('GET', '/v1/webhook/deliveries?limit=200', admin)).body.items as { eventId: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null }[];
  const deliveryOf = async (eventId: string) => (await deliveries()).find((d) => d.eventId === eventId);
  const lastEventId = async (type: string, linkName: string) =>
    (await sys.sql(`SELECT event_id FROM events WHERE type = $1 AND data->>'linkName' = $2 ORDER BY global_position DESC LIMIT 1`, [type, linkName]))[0].event_id as string;

  beforeAll(async () => {
    sys = await startTestSystem({
      PLUGBOARD_WEBHOOK_RETRY_BASE_MS: '100',
      PLUGBOARD_WEBHOOK_RETRY_MAX_MS: '1500',
      PLUGBOARD_WEBHOOK_POLL_MS: '50',
      PLUGBOARD_WEBHOOK_TIMEOUT_MS: '2000',
    });
    admin = await sys.key('acme', 'admin');
    member = await sys.key('acme', 'member');
    globex = await sys.key('globex', 'admin');
    await acmeHook.start();
    await globexHook.start();
    expect((await call('POST', '/v1/services', admin, keyService)).status).toBe(201);
    expect((await call('POST', '/v1/services', globex, keyService)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await acmeHook.stop();
    await globexHook.stop();
    await sys.close();
  });

  it('needs an admin key', async () => {
    const routes: [string, string, unknown?][] = [['PUT', '/v1/webhook', { url: acmeHook.url }], ['GET', '/v1/webhook'], ['DELETE', '/v1/webhook'], ['POST', '/v1/webhook/rotate-secret'], ['GET', '/v1/webhook/deliveries']];
    for (const [method, path, body] of routes) {
      expect((await call(method, path, null, body)).status).toBe(401);
      const forbidden = await call(method, path, member, body);
      expect({ status: forbidden.status, code: forbidden.body.error.code }).toEqual({ status: 403, code: 'forbidden' });
    }
  });

  it('refuses bad registrations with a sentence, and answers webhook_not_found before there is one', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /url/],
      [{ url: 'not a url' }, /url: must be an http\(s\) URL/],
      [{ url: 'ftp://hooks.example.com/x' }, /url: must be an http\(s\) URL/],
      [{ url: 'http://hooks.example.com/x' }, /url: must be https/],
      [{ url: 'https://10.0.0.7/x' }, /url: must not be a private or local address/],
      [{ url: 'https://[::1]:8443/x' }, /url: must not be a private or local address/],
      [{ url: 'https://hooks.example.com/x', events: ['ConnectionCreated'] }, /events.0: must be one of/],
      [{ url: 'https://hooks.example.com/x', events: [] }, /events: must name at least one event/],
      [{ url: 'https://hooks.example.com/x', secret: 'mine' }, /secret/],
    ];
    for (const [body, message] of cases) {
      const reply = await call('PUT', '/v1/webhook', admin, body);
      expect({ status: reply.status, code: reply.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
      expect(reply.body.error.message).toMatch(message);
    }
    for (const [method, path] of [['GET', '/v1/webhook'], ['DELETE', '/v1/webhook'], ['POST', '/v1/webhook/rotate-secret']]) {
      const reply = await call(method, path, admin);
      expect({ status: reply.status, code: reply.body.error.code }).toEqual({ status: 404, code: 'webhook_not_found' });
    }
    expect(await sys.sql(`SELECT 1 FROM events WHERE stream_id LIKE 'webhook-%'`)).toEqual([]);
  });

  it('registers a webhook, shows its secret once, and reads it back without it', async () => {
    const registered = await call('PUT', '/v1/webhook', admin, { url: acmeHook.url });
    expect(registered.status).toBe(200);
    expect(registered.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(registered.body.webhook).toMatchObject({ url: acmeHook.url, events: AUTH_EVENTS });
    acmeHook.secret = registered.body.secret;
    secrets.push(registered.body.secret);
    const read = await call('GET', '/v1/webhook', admin);
    expect(read.body).toEqual({ url: acmeHook.url, events: AUTH_EVENTS, createdAt: expect.any(String), updatedAt: expect.any(String), secretRotatedAt: expect.any(String) });

    const other = await call('PUT', '/v1/webhook', globex, { url: globexHook.url, events: ['ConnectionAuthorized'] });
    expect(other.body.webhook.events).toEqual(['ConnectionAuthorized']);
    globexHook.secret = other.body.secret;
    secrets.push(other.body.secret);
    expect(other.body.secret).not.toBe(registered.body.secret);
  });

  it('delivers each auth event of the org once, signed, and none to another org', async () => {
    await connect('crm');
    // The edit revokes the connection (the saga); authorizing again reconnects it.
    expect((await call('PATCH', '/v1/services/acme_api', admin, { name: 'Acme API v2' })).status).toBe(200);
    expect((await call('POST', '/v1/connections/crm/authorize', admin, { values: { api_key: API_KEY_VALUE } })).status).toBe(200);
    expect((await call('POST', '/v1/connections/crm/revoke', admin)).status).toBe(200);
    expect((await call('DELETE', '/v1/connections/crm', admin)).status).toBe(204);
    await sys.call('POST', '/v1/connections', globex, { name: 'g', linkName: 'g', service: 'acme_api' });
    await sys.call('POST', '/v1/connections/g/authorize', globex, { values: { api_key: API_KEY_VALUE } });
    await sys.call('POST', '/v1/connections/g/revoke', globex);

    const expected = await eventually(async () => {
      const ids = await expectedEvents('acme');
      // Authorized twice, the service edit, revoked by the saga and by the user, deleted.
      expect(ids).toHaveLength(6);
      expect(new Set(acmeHook.accepted().keys())).toEqual(new Set(ids));
      return ids;
    }, 15_000);
    expect([...acmeHook.accepted().values()].every((n) => n === 1)).toBe(true);
    expect(acmeHook.received.map((r) => r.type).sort()).toEqual(['ConnectionAuthorized', 'ConnectionAuthorized', 'ConnectionDeleted', 'ConnectionRevoked', 'ConnectionRevoked', 'ServiceEdited']);
    for (const r of acmeHook.received) {
      expect(r.verified).toBe(true);
      expect(r.headers['plugboard-event-id']).toBe(r.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.body)).toEqual({ id: r.id, type: r.type, occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), orgId: 'acme', data: expect.objectContaining({ orgId: 'acme' }) });
      expect(r.body).not.toContain(API_KEY_VALUE);
    }
    const revokedBySaga = acmeHook.received.find((r) => r.type === 'ConnectionRevoked' && JSON.parse(r.body).data.reason === 'service_edited');
    expect(revokedBySaga).toBeDefined();
    expect(expected).toContain(revokedBySaga?.id);

    // globex asked for authorizations only, and gets its own.
    const globexExpected = (await sys.sql(`SELECT event_id FROM events WHERE type = 'ConnectionAuthorized' AND data->>'orgId' = 'globex'`)).map((r) => r.event_id);
    await eventually(() => expect([...globexHook.accepted().keys()]).toEqual(globexExpected));
    expect(globexHook.received.every((r) => r.orgId === 'globex' && r.verified)).toBe(true);
  });

  it('keeps a delivery log: attempts, last status, no bodies; paged newest first', async () => {
    const log = await deliveries();
    expect(log).toHaveLength(6);
    for (const d of log) expect(d).toEqual({ eventId: expect.any(String), type: expect.any(String), status: 'delivered', attempts: 1, lastStatus: 200, lastError: null, lastAttemptAt: expect.any(String), nextAttemptAt: null, deliveredAt: expect.any(String), createdAt: expect.any(String) });
    expect(log.map((d) => d.eventId)).toEqual((await expectedEvents('acme')).reverse());
    const first = await call('GET', '/v1/webhook/deliveries?limit=4', admin);
    const second = await call('GET', `/v1/webhook/deliveries?limit=4&cursor=${first.body.nextCursor}`, admin);
    expect([...first.body.items, ...second.body.items].map((d: { eventId: string }) => d.eventId)).toEqual(log.map((d) => d.eventId));
    expect(second.body.nextCursor).toBeNull();
    expect((await call('GET', '/v1/webhook/deliveries?cursor=bm9wZQ', admin)).body.error.code).toBe('validation_failed');
    expect((await call('GET', '/v1/webhook/deliveries?limit=0', admin)).body.error.code).toBe('validation_failed');
    expect((await call('GET', '/v1/webhook/deliveries', globex)).body.items).toHaveLength(1);
  });

  it('retries while the receiver answers 503, waits as long as Retry-After asks, and delivers once it is back', async () => {
    acmeHook.failWith = { status: 503, retryAfter: '1' };
    await connect('second');
    const id = await lastEventId('ConnectionAuthorized', 'second');
    const attempts = await eventually(() => {
      const seen = acmeHook.received.filter((r) => r.id === id);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      return seen;
    }, 10_000);
    // Without Retry-After the second attempt would come after about 100 ms.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(900);
    expect(await deliveryOf(id)).toMatchObject({ status: 'pending', lastStatus: 503, lastError: 'http_status' });
    acmeHook.failWith = null;
    await eventually(() => expect(acmeHook.accepted().get(id)).toBe(1), 10_000);
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempts: acmeHook.received.filter((r) => r.id === id).length, lastStatus: 200, lastError: null });
  });

  it('delivers what happened while the receiver was down, once it is back', async () => {
    await acmeHook.stop();
    expect((await call('POST', '/v1/connections/second/revoke', admin)).status).toBe(200);
    expect((await call('DELETE', '/v1/connections/second', admin)).status).toBe(204);
    const ids = [await lastEventId('ConnectionRevoked', 'second'), await lastEventId('ConnectionDeleted', 'second')];
    await eventually(async () => {
      for (const id of ids) expect(await deliveryOf(id)).toMatchObject({ status: 'pending', attempts: expect.any(Number), lastStatus: null, lastError: 'unreachable' });
      expect((await deliveryOf(ids[0]))?.attempts).toBeGreaterThanOrEqual(2);
    }, 10_000);
    await acmeHook.start();
    await eventually(() => ids.forEach((id) => expect(acmeHook.accepted().get(id)).toBe(1)), 10_000);
  });

  it('loses nothing across a restart and sends nothing twice', async () => {
    await acmeHook.stop();
    await connect('third');
    expect((await call('POST', '/v1/connections/third/revoke', admin)).status).toBe(200);
    // Restarted at once: some of these may not even be in the outbox yet.
    await sys.restart();
    await acmeHook.start();
    const expected = await expectedEvents('acme');
    await eventually(() => expect(new Set(acmeHook.accepted().keys())).toEqual(new Set(expected)), 15_000);
    expect([...acmeHook.accepted().values()].every((n) => n === 1)).toBe(true);
    expect((await deliveries()).every((d) => d.status === 'delivered')).toBe(true);
  }, 60_000);

  it('signs with the new secret right after a rotation', async () => {
    const rotated = await call('POST', '/v1/webhook/rotate-secret', admin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    const old = acmeHook.secret;
    expect(rotated.body.secret).not.toBe(old);
    acmeHook.secret = rotated.body.secret;
    secrets.push(rotated.body.secret);
    expect((await call('POST', '/v1/connections/third/authorize', admin, { values: { api_key: API_KEY_VALUE } })).status).toBe(200);
    const id = await lastEventId('ConnectionAuthorized', 'third');
    await eventually(() => expect(acmeHook.accepted().get(id)).toBe(1));
    const sent = acmeHook.received.find((r) => r.id === id);
    expect(verifySignature(sent?.body ?? '', String(sent?.headers['plugboard-signature']), old)).toBe(false);
  });

  it('stops after removal: pending deliveries are cancelled, later events are not queued, the secret is erased', async () => {
    acmeHook.failWith = { status: 500 };
    expect((await call('POST', '/v1/connections/third/revoke', admin)).status).toBe(200);
    const pending = await lastEventId('ConnectionRevoked', 'third');
    await eventually(async () => expect(await deliveryOf(pending)).toMatchObject({ status: 'pending', lastStatus: 500 }));
    expect((await call('DELETE', '/v1/webhook', admin)).status).toBe(204);
    expect((await call('GET', '/v1/webhook', admin)).body.error.code).toBe('webhook_not_found');
    await eventually(async () => expect((await deliveryOf(pending))?.status).toBe('cancelled'));
    expect(await sys.sql(`SELECT 1 FROM vault_entries WHERE org_id = 'acme' AND purpose = 'webhook.secret'`)).toEqual([]);

    expect((await call('DELETE', '/v1/connections/third', admin)).status).toBe(204);
    const [deleted] = await sys.sql(`SELECT global_position FROM events WHERE type = 'ConnectionDeleted' AND data->>'linkName' = 'third'`);
    await eventually(async () => {
      const [checkpoint] = await sys.sql(`SELECT position FROM subscription_checkpoints WHERE name = 'webhooks:outbox'`);
      expect(Number(checkpoint.position)).toBeGreaterThanOrEqual(Number(deleted.global_position));
    });
    expect(await sys.sql(`SELECT 1 FROM webhook_deliveries d JOIN events e ON e.event_id = d.event_id WHERE e.global_position = $1`, [deleted.global_position])).toEqual([]);
    acmeHook.failWith = null;
  });

  it('keeps every secret out of events, read models, logs and error bodies', async () => {
    expect(secrets).toHaveLength(3);
    const tables = ['events', 'webhooks', 'webhook_deliveries', 'connections', 'connection_credentials', 'subscription_checkpoints'];
    const dump = (await Promise.all(tables.map((t) => sys.sql(`SELECT row_to_json(t)::text AS row FROM ${t} t`)))).flat().map((r) => r.row).join('\n');
    const everywhere = [dump, sys.logs(), JSON.stringify(errorBodies)].join('\n');
    expect(errorBodies.length).toBeGreaterThan(10);
    for (const secret of [...secrets, API_KEY_VALUE]) expect(everywhere).not.toContain(secret);
    // Only the vault holds it, sealed.
    expect(await sys.sql(`SELECT 1 FROM vault_entries WHERE org_id = 'globex' AND purpose = 'webhook.secret'`)).toHaveLength(1);
    expect(await sys.vaultEntry((await sys.sql(`SELECT secret_ref FROM webhooks WHERE org_id = 'globex'`))[0].secret_ref, 'globex')).toBe(secrets[1]);
  });
});
