import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { TEST_NATS_URL, testNamespace, WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

interface Reply {
  ok: boolean;
  result?: any;
  error?: { code: string; message: string; details?: unknown[] };
}

/** Runs examples/nats-product/round-trip.mjs, a product that shares no code with Plugboard, and returns what it saw. */
function runProduct(env: NodeJS.ProcessEnv): Promise<{ code: number | null; seen: any }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, 'examples/nats-product/round-trip.mjs')], { env: { PATH: process.env.PATH, ...env }, cwd: WORKSPACE_ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    // A product that hangs fails the test with what it printed, instead of timing the test out.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, seen: out ? JSON.parse(out) : { stderr: err } });
    });
  });
}

const service = { name: 'Acme CRM', linkName: 'acme_crm', authType: 'api_key', baseUrl: '', apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] } };

describe('products over NATS: <namespace>.api.*', () => {
  const namespace = testNamespace();
  let sys: TestSystem;
  let upstream: Upstream;
  let nc: NatsConnection;
  let product: string;
  let bobsKey: string;
  let globex: string;

  /** A request as a product in any language sends it: JSON, and HTTP-named headers. */
  async function requestWithHeaders(operation: string, body: unknown, headers: Record<string, string> = {}): Promise<{ reply: Reply; replayed: boolean }> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const message = await nc.request(`${namespace}.api.${operation}`, data, { timeout: 20_000, headers: h });
    return { reply: message.json<Reply>(), replayed: message.headers?.get('Idempotent-Replayed') === 'true' };
  }
  const request = async (operation: string, body: unknown, headers: Record<string, string> = {}) => (await requestWithHeaders(operation, body, headers)).reply;
  const as = (key: string, user?: string) => ({ Authorization: `Bearer ${key}`, ...(user ? { 'X-User-Id': user } : {}) });

  beforeAll(async () => {
    upstream = await startUpstream();
    sys = await startTestSystem({ PLUGBOARD_NAMESPACE: namespace });
    nc = await connect({ servers: TEST_NATS_URL, inboxPrefix: '_INBOX.product' });
    product = await sys.key('acme', 'admin');
    bobsKey = await sys.key('acme', 'member', 'bob');
    globex = await sys.key('globex', 'admin');
    expect(await request('services.create', { ...service, baseUrl: upstream.base }, as(product, 'alice'))).toMatchObject({ ok: true, result: { linkName: 'acme_crm' } });
    expect(await request('connections.create', { name: 'CRM', linkName: 'crm', service: 'acme_crm' }, as(product, 'alice'))).toMatchObject({ ok: true });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await sys?.close();
    await upstream?.close();
  });

  it('does the whole round trip from a separate process: create, authorize with an API key, invoke, revoke, and the events', async () => {
    const { code, seen } = await runProduct({ NATS_URL: TEST_NATS_URL, PLUGBOARD_NAMESPACE: namespace, PLUGBOARD_KEY: product, PLUGBOARD_USER: 'alice', UPSTREAM_URL: upstream.base, ROUND_TRIP_TRACE: '1' });
    expect(seen).toMatchObject({ authorized: 'connected', invoked: 200, revoked: 'revoked', invokeAfterRevoke: 'connection_revoked' });
    expect(code).toBe(0);
    // The upstream received the key the product authorized with, and nothing reached it after the revocation.
    const calls = upstream.seen.filter((call) => call.path === '/things');
    expect(calls).toHaveLength(1);
    expect(calls[0].headers.api_key).toMatch(/^key-[0-9a-f]{8}$/);
    // Each event once, its JetStream message id its own id, its correlation id the request's X-Request-Id.
    const events: { type: string; id: string; msgId: string; correlationId: string }[] = seen.events;
    expect(events.map((e) => e.type)).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'ConnectionRevoked']);
    for (const event of events) expect(event.msgId).toBe(event.id);
    expect(events[1].correlationId).toMatch(/^round-trip-[0-9a-f]{8}-connections\.authorize$/);
    expect(seen.replayedFrom.type).toBe('ConnectionAuthorized');
  }, 120_000);

  it('refuses a request without a key, or with a wrong one, and does nothing', async () => {
    const body = { name: 'Sneaky', linkName: 'sneaky', service: 'acme_crm' };
    expect(await request('connections.create', body)).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await request('connections.create', body, as('pb_not-a-key', 'alice'))).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await request('connections.create', body, { Authorization: product })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await request('connections.get', { linkName: 'sneaky' }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
  });

  it("refuses a person's key that names another user (user_mismatch), and does nothing", async () => {
    expect(await request('connections.create', { name: 'Bob as Alice', linkName: 'bob_as_alice', service: 'acme_crm' }, as(bobsKey, 'alice'))).toMatchObject({ ok: false, error: { code: 'user_mismatch' } });
    expect(await request('connections.get', { linkName: 'bob_as_alice' }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
    // Bob's key acts as Bob: what it creates is Bob's.
    expect(await request('connections.create', { name: 'Bobs', linkName: 'bobs', service: 'acme_crm' }, as(bobsKey))).toMatchObject({ ok: true, result: { owner: 'bob' } });
  });

  it('refuses repeated Authorization or X-User-Id headers, in any spelling, as REST does, rather than picking one', async () => {
    const twice = async (first: [string, string], second: [string, string]) => {
      const h = natsHeaders();
      h.append(first[0], first[1]);
      h.append(second[0], second[1]);
      return (await nc.request(`${namespace}.api.connections.get`, JSON.stringify({ linkName: 'crm' }), { timeout: 20_000, headers: h })).json<Reply>();
    };
    expect(await twice(['Authorization', `Bearer ${product}`], ['Authorization', `Bearer ${globex}`])).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await twice(['authorization', `Bearer ${product}`], ['AUTHORIZATION', `Bearer ${globex}`])).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    const withUsers = natsHeaders();
    withUsers.set('Authorization', `Bearer ${product}`);
    withUsers.append('X-User-Id', 'alice');
    withUsers.append('x-user-id', 'mallory');
    expect((await nc.request(`${namespace}.api.connections.get`, JSON.stringify({ linkName: 'crm' }), { timeout: 20_000, headers: withUsers })).json<Reply>()).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
  });

  it('never reads the actor from the body: a request that carries one is refused, and does nothing', async () => {
    const smuggled = { name: 'Forged', linkName: 'forged', service: 'acme_crm', actor: { orgId: 'globex', userId: 'mallory' } };
    expect(await request('connections.create', smuggled, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'validation_failed', details: [{ path: 'actor' }] } });
    expect(await request('connections.get', { linkName: 'forged' }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
    expect(await request('connections.get', { linkName: 'forged' }, as(globex, 'mallory'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
  });

  it('refuses control characters in a link name and NUL anywhere, as REST does, and bad JSON', async () => {
    for (const linkName of ['crm\r\nX-Evil: 1', 'crm\n', 'c\u0000rm']) {
      expect(await request('connections.delete', { linkName }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'invalid_characters' } });
    }
    expect((await sys.call('DELETE', '/v1/connections/crm%0D%0AX', product)).body.error.code).toBe('invalid_characters');
    expect(await request('connections.edit', { linkName: 'crm', name: 'C\u0000RM' }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'invalid_characters' } });
    expect(await request('connections.edit', '{"linkName": "crm",', as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'malformed_json' } });
    expect(await request('connections.get', { linkName: 'crm' }, as(product, 'alice'))).toMatchObject({ ok: true, result: { name: 'CRM' } });
  });

  it("keeps another org's connection out of reach: not found, and nothing changes", async () => {
    expect(await request('connections.get', { linkName: 'crm' }, as(globex, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
    expect(await request('connections.delete', { linkName: 'crm' }, as(globex, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
    expect(await request('connections.revoke', { linkName: 'crm' }, as(globex, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
    expect(await request('connections.get', { linkName: 'crm' }, as(product, 'alice'))).toMatchObject({ ok: true, result: { linkName: 'crm' } });
  });

  it('keeps the answer of a command sent with an Idempotency-Key, as REST does', async () => {
    const headers = { ...as(product, 'alice'), 'Idempotency-Key': 'create-keyed-crm-1' };
    const body = { name: 'Keyed', linkName: 'keyed', service: 'acme_crm' };
    const first = await requestWithHeaders('connections.create', body, headers);
    expect(first).toMatchObject({ reply: { ok: true, result: { linkName: 'keyed' } }, replayed: false });
    // Without the key, the same command is refused (the link name is taken); with it, the kept answer comes back.
    expect(await request('connections.create', body, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'link_name_taken' } });
    expect(await requestWithHeaders('connections.create', body, headers)).toEqual({ reply: first.reply, replayed: true });
    expect(await request('connections.create', { ...body, name: 'Other' }, headers)).toMatchObject({ ok: false, error: { code: 'idempotency_key_reused' } });
    expect(await request('invoke', { connection: 'keyed', method: 'GET', url: '/things' }, { ...headers, 'Idempotency-Key': 'invoke-1' })).toMatchObject({
      ok: false,
      error: { code: 'idempotency_key_not_supported' },
    });
    const created = await sys.sql(`SELECT count(*)::int AS n FROM events WHERE type = 'ConnectionCreated' AND data->>'linkName' = 'keyed'`);
    expect(created[0].n).toBe(1);
  });

  it('answers only to an inbox: a reply subject naming an event or internal subject gets nothing published there, and runs nothing', async () => {
    // Whoever may publish the API may name any reply subject; the gateway may publish events and internal commands.
    const seen: string[] = [];
    for (const subject of [`${namespace}.events.ConnectionRevoked`, `${namespace}.connection.revokeConnection`, '_INBOX.gateway.forged']) {
      nc.subscribe(subject, { callback: (_, message) => seen.push(message.subject) });
    }
    await nc.flush();
    const h = natsHeaders();
    for (const [name, value] of Object.entries(as(product, 'alice'))) h.set(name, value);
    const body = JSON.stringify({ name: 'Misdirected', linkName: 'misdirected', service: 'acme_crm' });
    for (const reply of [`${namespace}.events.ConnectionRevoked`, `${namespace}.connection.revokeConnection`, '_INBOX.gateway.forged']) {
      nc.publish(`${namespace}.api.connections.create`, body, { reply, headers: h });
    }
    // Nor does a request that asks for no answer act: its sender could never learn what it did.
    nc.publish(`${namespace}.api.connections.create`, body, { headers: h });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seen).toEqual([]);
    expect(await request('connections.get', { linkName: 'misdirected' }, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'connection_not_found' } });
  });

  it('answers every subject the AsyncAPI document (served beside the OpenAPI one) lists, as documented', async () => {
    const document = (await sys.call('GET', '/docs/asyncapi.json', null)).body;
    expect(JSON.stringify((await sys.call('GET', '/docs/openapi.json', null)).body.info)).toContain('/docs/asyncapi.json');
    const channels = Object.entries(document.channels as Record<string, { address: string | null }>).filter(([, channel]) => channel.address?.startsWith(`${namespace}.api.`));
    expect(channels.length).toBeGreaterThanOrEqual(20);
    for (const [id, channel] of channels) {
      const documented: string[] = document.components.messages[`${id}_reply`].payload.oneOf[1].properties.error.properties.code.enum;
      const reply = await request(String(channel.address).slice(`${namespace}.api.`.length), {});
      expect({ id, reply }).toMatchObject({ id, reply: { ok: false, error: { code: 'unauthenticated' } } });
      expect(documented).toContain(reply.error?.code);
    }
    // And with a key, the reads answer their documented result.
    expect(await request('services.list', { limit: 5 }, as(product, 'alice'))).toMatchObject({ ok: true, result: { items: expect.any(Array) } });
    expect(await request('connections.snippet', { linkName: 'crm' }, as(product, 'alice'))).toMatchObject({ ok: true, result: { curl: expect.any(String) } });
    expect(await request('webhook.get', {}, as(product, 'alice'))).toMatchObject({ ok: false, error: { code: 'webhook_not_found' } });
  }, 60_000);
});
