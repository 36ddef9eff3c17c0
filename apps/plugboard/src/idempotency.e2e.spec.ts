import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestSystem, type TestSystem } from './test-support/test-system';

/**
 * `Idempotency-Key` on the gateway's commands: a repeat after success gets the same answer and records nothing more,
 * the same key with another body is refused, a repeat while the first runs is told so.
 */
describe('Idempotency-Key on commands', () => {
  let sys: TestSystem & { publicUrl: string };
  let api: Server;
  let alice: string;
  /** The verification call waits this long, to keep an authorization running while a repeat arrives. */
  let verifyDelayMs = 0;

  const send = async (method: string, path: string, key: string | null, idempotencyKey: string | null, body?: unknown, userId = 'alice') => {
    const headers: Record<string, string> = { 'x-user-id': userId };
    if (key) headers.authorization = `Bearer ${key}`;
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${sys.publicUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: text ? JSON.parse(text) : null };
  };
  const count = async (type: string) => Number((await sys.sql(`SELECT count(*)::int AS n FROM events WHERE type = $1`, [type]))[0].n);
  const service = (linkName: string) => ({
    name: 'Checked API',
    linkName,
    authType: 'api_key',
    baseUrl: `${apiBase}/api`,
    verify: { method: 'GET', path: '/me' },
    apiKey: { params: [{ name: 'x-api-key', displayName: 'Key', paramType: 'header' }] },
  });
  let apiBase: string;

  beforeAll(async () => {
    api = createServer((req, res) => {
      setTimeout(() => res.writeHead(req.headers['x-api-key'] === 'good' ? 200 : 401).end('{}'), verifyDelayMs);
    });
    apiBase = await new Promise((resolve) => api.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(api.address() as AddressInfo).port}`)));
    sys = await startTestSystem();
    alice = await sys.key('acme', 'member');
  }, 90_000);
  afterAll(async () => {
    await sys?.close();
    api?.close();
  });

  it('asks who is calling first: without an API key the key is neither looked at nor kept', async () => {
    expect((await send('POST', '/v1/services', null, 'k-anon', service('anon'))).status).toBe(401);
    expect(await sys.sql(`SELECT 1 FROM idempotency_keys`)).toEqual([]);
  });

  it('refuses a malformed key and a key on a route whose answer is not kept', async () => {
    const spaced = await send('POST', '/v1/services', alice, 'two words', service('spaced'));
    expect(spaced.status).toBe(400);
    expect(spaced.body.error.code).toBe('idempotency_key_invalid');
    expect((await send('POST', '/v1/services', alice, 'k'.repeat(256), service('long'))).body.error.code).toBe('idempotency_key_invalid');
    const admin = await sys.key('acme', 'admin');
    const keys = await send('POST', '/v1/keys', admin, 'k-keys', { role: 'read_only' });
    expect(keys.status).toBe(400);
    expect(keys.body.error).toEqual({ code: 'idempotency_key_not_supported', message: expect.stringMatching(/^POST \/v1\/keys does not take an Idempotency-Key: its answer holds the new API key/) });
    expect(await count('ServiceCreated')).toBe(0);
  });

  it('a create repeated after success answers the same, with the same status, and records one event', async () => {
    const first = await send('POST', '/v1/services', alice, 'k-create', service('checked'));
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const again = await send('POST', '/v1/services', alice, 'k-create', service('checked'));
    expect(again).toEqual({ status: 201, replayed: 'true', body: first.body });
    expect(await count('ServiceCreated')).toBe(1);
    // Without the key, the same request is a new command, refused as a duplicate.
    expect((await send('POST', '/v1/services', alice, null, service('checked'))).body.error.code).toBe('link_name_taken');
  });

  it('the same key with another body, another route or another user is refused, and nothing runs', async () => {
    const other = await send('POST', '/v1/services', alice, 'k-create', service('checked_two'));
    expect(other.status).toBe(409);
    expect(other.body.error).toEqual({ code: 'idempotency_key_reused', message: expect.stringMatching(/used in the last 24 hours for another request/) });
    expect((await send('POST', '/v1/connections', alice, 'k-create', { name: 'C', linkName: 'c', service: 'checked' })).body.error.code).toBe('idempotency_key_reused');
    expect((await send('POST', '/v1/services', alice, 'k-create', service('checked'), 'bob')).body.error.code).toBe('idempotency_key_reused');
    expect(await count('ServiceCreated')).toBe(1);
    expect(await sys.call('GET', '/v1/services/checked_two', alice)).toMatchObject({ status: 404 });
  });

  it('an authorization repeated after success answers the same and authorizes once', async () => {
    expect((await send('POST', '/v1/connections', alice, 'k-conn', { name: 'Checked', linkName: 'checked', service: 'checked' })).status).toBe(201);
    const first = await send('POST', '/v1/connections/checked/authorize', alice, 'k-auth', { values: { 'x-api-key': 'good' } });
    expect(first.status).toBe(200);
    expect(first.body.connection.status).toBe('connected');
    const again = await send('POST', '/v1/connections/checked/authorize', alice, 'k-auth', { values: { 'x-api-key': 'good' } });
    expect(again).toEqual({ status: 200, replayed: 'true', body: first.body });
    expect(await count('ConnectionAuthorized')).toBe(1);
    expect((await send('POST', '/v1/connections/checked/authorize', alice, 'k-auth', { values: { 'x-api-key': 'other' } })).body.error.code).toBe('idempotency_key_reused');
  });

  it('a refusal is kept too: the repeat gets the same 4xx', async () => {
    const first = await send('POST', '/v1/connections/checked/authorize', alice, 'k-bad', { values: { 'x-api-key': 'bad' } });
    expect(first.status).toBe(422);
    expect(first.body.error.code).toBe('credential_rejected');
    expect(await send('POST', '/v1/connections/checked/authorize', alice, 'k-bad', { values: { 'x-api-key': 'bad' } })).toEqual({ ...first, replayed: 'true' });
  });

  it('a repeat while the first is still running is told so, and the first still completes once', async () => {
    verifyDelayMs = 1_500;
    try {
      const body = { values: { 'x-api-key': 'good' } };
      const first = send('POST', '/v1/connections/checked/authorize', alice, 'k-slow', body);
      await sleep(500);
      const during = await send('POST', '/v1/connections/checked/authorize', alice, 'k-slow', body);
      expect(during.status).toBe(409);
      expect(during.body.error.code).toBe('idempotency_key_in_progress');
      expect((await first).status).toBe(200);
      expect((await send('POST', '/v1/connections/checked/authorize', alice, 'k-slow', body)).replayed).toBe('true');
      expect(await count('ConnectionAuthorized')).toBe(2);
    } finally {
      verifyDelayMs = 0;
    }
  });

  it('a delete repeated answers 204 again rather than 404, and deletes once', async () => {
    expect((await send('DELETE', '/v1/connections/checked', alice, 'k-del')).status).toBe(204);
    expect(await send('DELETE', '/v1/connections/checked', alice, 'k-del')).toEqual({ status: 204, replayed: 'true', body: null });
    expect(await count('ConnectionDeleted')).toBe(1);
    // Keys are per org: another org's identical key is its own.
    const other = await sys.key('globex', 'member');
    expect((await send('POST', '/v1/services', other, 'k-create', service('checked'))).status).toBe(201);
  });
});
