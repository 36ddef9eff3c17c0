import { createServer } from 'node:http';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { Subjects } from '@plugboard/contracts';
import { createClientTransport, RpcClient } from '@plugboard/messaging';
import { freePort } from '@plugboard/runtime';
import { createTestDatabase, eventually, runEntry, TEST_NATS_URL, testMasterKey, testNamespace, type RunningProcess, type TestDatabase } from '@plugboard/testing';
import { startUpstream } from './test-support/upstream';

/**
 * Distributed mode as deployed: each app its own process, talking over the real NATS, writing to the real
 * PostgreSQL; the test calls the gateway over HTTP like a user, and the registry over NATS like another product.
 */
describe('distributed mode: every app in its own process', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let proxyPort: number;
  let healthBase: string;
  let probesWhileWaiting: { live: number; ready: number };
  const probes = async () => ({ live: (await fetch(`${healthBase}/health/live`)).status, ready: (await fetch(`${healthBase}/health/ready`)).status });
  const processes: RunningProcess[] = [];
  const keys: Record<'acme' | 'acmeReader' | 'globex', string> = { acme: '', acmeReader: '', globex: '' };
  let nats: NatsConnection;
  const published: { type: string; data: { linkName: string } }[] = [];

  async function createKey(org: string, role: string): Promise<string> {
    const cli = runEntry('apps/gateway/src/cli/keys.cli.ts', env, ['create', '--org', org, '--role', role]);
    const [key] = await cli.waitForOutput(/pb_[A-Za-z0-9_-]{43}/);
    expect(await cli.exited).toBe(0);
    return key;
  }

  function call(method: string, path: string, key: string | null, body?: string | object) {
    const headers: Record<string, string> = { 'x-user-id': 'alice' };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${base}${path}`, { method, headers, body: typeof body === 'string' ? body : JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      PLUGBOARD_NAMESPACE: testNamespace(),
      PLUGBOARD_MASTER_KEY: testMasterKey(),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '4',
      PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
    };
    nats = await connect({ servers: TEST_NATS_URL });
    nats.subscribe(`${env.PLUGBOARD_NAMESPACE}.events.>`, { callback: (_e, m) => published.push(m.json()) });
    keys.acme = await createKey('acme', 'member');
    // The invoke proxy serves /v1/proxy on a port of its own; the gateway forwards there.
    proxyPort = await freePort();
    // The registry also serves the orchestrators' probes (HEALTH_PORT).
    healthBase = `http://127.0.0.1:${await freePort()}`;
    const own: Record<string, NodeJS.ProcessEnv> = {
      'service-registry': { HEALTH_PORT: new URL(healthBase).port },
      'invoke-proxy': { PORT: String(proxyPort) },
      gateway: { PLUGBOARD_INVOKE_PROXY_URL: `http://127.0.0.1:${proxyPort}` },
    };
    for (const app of ['service-registry', 'connection', 'token-refresh', 'invoke-proxy', 'gateway']) {
      processes.push(runEntry(`apps/${app}/src/main.ts`, { ...env, LOG_LEVEL: 'info', ...own[app] }));
    }
    // The apps do not migrate by themselves: they wait for the migration command, as during a rollout.
    await processes[0].waitForOutput(/waits for its migrations/, 120_000);
    probesWhileWaiting = await probes();
    const migrate = runEntry('tools/migrate.ts', env);
    expect(await migrate.exited).toBe(0);
    await Promise.all(processes.map((p) => p.waitForOutput(/is listening/, 120_000)));
    await eventually(async () => expect((await call('GET', '/health', null)).status).toBe(200), 30_000);
    keys.acmeReader = await createKey('acme', 'read_only');
    keys.globex = await createKey('globex', 'admin');
  }, 180_000);

  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop('SIGTERM')));
    await nats?.jetstreamManager().then((jsm) => jsm.streams.delete(`${env.PLUGBOARD_NAMESPACE?.toUpperCase()}_EVENTS`)).catch(() => undefined);
    await nats?.close();
    await db?.drop();
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  }, 60_000);

  it('reports every app and the database healthy', async () => {
    const { status, body } = await call('GET', '/health', null);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', checks: { database: 'ok', 'service-registry': 'ok', connection: 'ok', 'token-refresh': 'ok', 'invoke-proxy': 'ok' } });
  });

  it('answers the probes: live from the start, ready only once its migrations are there and it has started', async () => {
    expect(probesWhileWaiting).toEqual({ live: 200, ready: 503 });
    expect(await probes()).toEqual({ live: 200, ready: 200 });
    // The same internal port serves the app's Prometheus metrics: its bus handlers' and its subscriptions'.
    const metrics = await (await fetch(`${healthBase}/metrics`)).text();
    expect(metrics).toMatch(/^plugboard_process_cpu_seconds_total \S+$/m);
    expect(metrics).toContain('# TYPE plugboard_projection_lag_seconds gauge');
  });

  it('refuses callers without a valid key', async () => {
    expect(await call('GET', '/v1/services/anything', null)).toEqual({ status: 401, body: { error: { code: 'unauthenticated', message: expect.stringMatching(/API key/) } } });
    expect((await call('GET', '/v1/services/anything', 'pb_not-a-real-key')).status).toBe(401);
  });

  it('refuses bad input with a stable code and a sentence, and creates nothing', async () => {
    const cases: [string | object, string, RegExp][] = [
      ['{"name": ', 'malformed_json', /not valid JSON/],
      [{ name: 'x'.repeat(51), linkName: 'too_long', authType: 'basic' }, 'validation_failed', /name: must be 50 characters or fewer/],
      [{ name: 'Bad link', linkName: 'Bad-Link', authType: 'basic' }, 'validation_failed', /linkName: must start with a lowercase letter/],
      [{ name: 'Unknown', linkName: 'unknown_auth', authType: 'password' }, 'validation_failed', /authType/],
      [{ name: 'Bad URL', linkName: 'bad_url', authType: 'basic', baseUrl: 'javascript:alert(1)' }, 'validation_failed', /baseUrl: must be an http\(s\) URL/],
      [{ name: 'No params', linkName: 'no_params', authType: 'api_key' }, 'validation_failed', /apiKey/],
      [{ name: 42, linkName: 'wrong_type', authType: 'basic' }, 'validation_failed', /name/],
    ];
    for (const [body, code, message] of cases) {
      const response = await call('POST', '/v1/services', keys.acme, body);
      expect({ status: response.status, code: response.body.error?.code }).toEqual({ status: 400, code });
      expect(response.body.error.message).toMatch(message);
    }
    for (const linkName of ['too_long', 'unknown_auth', 'bad_url', 'no_params', 'wrong_type']) {
      expect((await call('GET', `/v1/services/${linkName}`, keys.acme)).status).toBe(404);
    }
  });

  it('lets a read-only key read but not create', async () => {
    const response = await call('POST', '/v1/services', keys.acmeReader, { name: 'Nope', linkName: 'nope', authType: 'basic' });
    expect(response).toEqual({ status: 403, body: { error: { code: 'forbidden', message: 'This needs the member role; your key has the read_only role.' } } });
  });

  it('creates a service, reads it back, refuses its link name twice, and hides it from another org', async () => {
    const service = {
      name: 'Acme CRM',
      linkName: 'acme_crm',
      authType: 'api_key',
      baseUrl: 'https://api.acme.example/v2',
      apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
    };
    const created = await call('POST', '/v1/services', keys.acme, service);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...service, type: 'custom', owner: 'alice', allowedHosts: ['api.acme.example'], connectionCount: 0 });

    const read = await call('GET', '/v1/services/acme_crm', keys.acmeReader);
    expect(read).toEqual({ status: 200, body: created.body });

    const again = await call('POST', '/v1/services', keys.acme, { ...service, name: 'Another' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('link_name_taken');
    expect((await call('GET', '/v1/services/acme_crm', keys.acme)).body.name).toBe('Acme CRM');

    expect(await call('GET', '/v1/services/acme_crm', keys.globex)).toEqual({
      status: 404,
      body: { error: { code: 'service_not_found', message: 'No service with link name "acme_crm" exists in this organization.' } },
    });
    await eventually(() => expect(published).toContainEqual(expect.objectContaining({ type: 'ServiceCreated', data: expect.objectContaining({ linkName: 'acme_crm' }) })));
  });

  it('answers the same operations as NATS requests from another process', async () => {
    const client = createClientTransport({ natsUrl: TEST_NATS_URL, namespace: env.PLUGBOARD_NAMESPACE as string, appName: 'another-product' });
    const rpc = new RpcClient(client);
    try {
      await rpc.request(Subjects.registry.createService, { actor: { orgId: 'acme', userId: 'bob' }, service: { name: 'Over NATS', linkName: 'over_nats', authType: 'basic' } });
      expect(await rpc.request(Subjects.registry.getService, { actor: { orgId: 'acme', userId: 'bob' }, linkName: 'over_nats' })).toMatchObject({ name: 'Over NATS', owner: 'bob' });
      await expect(rpc.request(Subjects.registry.getService, { actor: { orgId: 'globex', userId: 'bob' }, linkName: 'over_nats' })).rejects.toMatchObject({ code: 'service_not_found' });
    } finally {
      await client.close();
    }
    expect((await call('GET', '/v1/services/over_nats', keys.acme)).body.owner).toBe('bob');
  });

  it('keeps OAuth secrets out of replies, events, read models and logs', async () => {
    const clientSecret = 'cs-0c1d2e3f-super-secret-value';
    const created = await call('POST', '/v1/services', keys.acme, {
      name: 'Acme OAuth',
      linkName: 'acme_oauth',
      authType: 'oauth2',
      oauth2: {
        grantType: 'authorization_code',
        clientId: 'client-1',
        clientSecret,
        authorizeUrl: 'https://auth.acme.example/authorize',
        accessTokenUrl: 'https://auth.acme.example/token',
        paramType: 'header',
        scopes: [{ name: 'crm.read', displayName: 'Read CRM' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.oauth2.clientSecret).toBe('********');
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const events = await pg.query(`SELECT data::text || metadata::text AS text FROM events`);
      const services = await pg.query(`SELECT row_to_json(s)::text AS text FROM services s`);
      const vault = await pg.query(`SELECT encode(ciphertext, 'escape') AS text FROM vault_entries`);
      for (const { text } of [...events.rows, ...services.rows, ...vault.rows]) expect(text).not.toContain(clientSecret);
      expect(vault.rows).toHaveLength(1);
    } finally {
      await pg.end();
    }
    expect(JSON.stringify(await call('GET', '/v1/services/acme_oauth', keys.acme))).not.toContain(clientSecret);
    for (const p of processes) expect(p.output()).not.toContain(clientSecret);
  });

  it('proxies /v1/proxy through the gateway to the invoke-proxy process, the key added on the way', async () => {
    const up = await startUpstream();
    try {
      const service = { name: 'Keys', linkName: 'dist_keys', authType: 'api_key', baseUrl: `${up.base}/api`, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
      expect((await call('POST', '/v1/services', keys.acme, service)).status).toBe(201);
      expect((await call('POST', '/v1/connections', keys.acme, { name: 'Keys', linkName: 'dist_keys', service: 'dist_keys' })).status).toBe(201);
      expect((await call('POST', '/v1/connections/dist_keys/authorize', keys.acme, { values: { 'X-Api-Key': 'dist-secret' } })).status).toBe(200);
      const response = await fetch(`${base}/v1/proxy/dist_keys/items?page=3`, { method: 'POST', headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'text/plain' }, body: 'hello' });
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { ok: true, path: '/api/items' } });
      expect(up.seen.at(-1)).toMatchObject({ method: 'POST', path: '/api/items', query: { page: '3' }, body: 'hello', headers: { 'x-api-key': 'dist-secret' } });
      expect(up.seen.at(-1)?.headers.authorization).toBeUndefined();
    } finally {
      await up.close();
    }
  });

  it('serves the OpenAPI document and its UI', async () => {
    const doc: any = await fetch(`${base}/docs/openapi.json`).then((r) => r.json());
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/v1/services', '/v1/services/{linkName}']));
    expect(doc.paths['/v1/services'].post.responses['409'].description).toContain('link_name_taken');
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });

  it('stops a process whose configuration is missing or malformed, naming the variable', async () => {
    const missing = runEntry('apps/gateway/src/main.ts', { ...env, NATS_URL: undefined, PORT: '1' });
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toMatch(/NATS_URL is required in distributed mode/);
    const malformed = runEntry('apps/service-registry/src/main.ts', { ...env, DATABASE_URL: 'mysql://nope', PLUGBOARD_MASTER_KEY: 'short' });
    expect(await malformed.exited).toBe(1);
    expect(malformed.output()).toMatch(/DATABASE_URL must be a postgres:\/\//);
    expect(malformed.output()).toMatch(/PLUGBOARD_MASTER_KEY must be a base64 key/);
  }, 60_000);

  // Last: it stops the gateway and the invoke proxy.
  it('on SIGTERM, the gateway and the invoke proxy refuse new calls, finish the calls in flight, and exit 0', async () => {
    const seen: string[] = [];
    const slow = createServer((req, res) => {
      seen.push(req.url ?? '');
      const ms = Number(new URL(req.url ?? '/', 'http://slow').searchParams.get('ms'));
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`waited ${ms}`), ms);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowBase = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    const client = createClientTransport({ natsUrl: TEST_NATS_URL, namespace: env.PLUGBOARD_NAMESPACE as string, appName: 'another-product' });
    const through = (url: string) => fetch(url, { headers: { authorization: `Bearer ${keys.acme}` } }).then(async (r) => ({ status: r.status, body: await r.text() }));
    try {
      const service = { name: 'Slow', linkName: 'dist_slow', authType: 'api_key', baseUrl: slowBase, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
      expect((await call('POST', '/v1/services', keys.acme, service)).status).toBe(201);
      expect((await call('POST', '/v1/connections', keys.acme, { name: 'Slow', linkName: 'dist_slow', service: 'dist_slow' })).status).toBe(201);
      expect((await call('POST', '/v1/connections/dist_slow/authorize', keys.acme, { values: { 'X-Api-Key': 'slow-secret' } })).status).toBe(200);
      const [gateway, invokeProxy] = [processes[4], processes[3]];

      // The gateway, with a call streaming through it to the invoke proxy.
      const viaGateway = through(`${base}/v1/proxy/dist_slow/wait?ms=1500`);
      await eventually(() => expect(seen).toContain('/wait?ms=1500'));
      gateway.child.kill('SIGTERM');
      await gateway.waitForOutput(/gateway is stopping/);
      await expect(fetch(`${base}/health`)).rejects.toThrow();
      expect(await viaGateway).toEqual({ status: 200, body: 'waited 1500' });
      expect(await gateway.exited).toBe(0);

      // The invoke proxy, with a call on its HTTP port and a longer one over NATS: the port closes first, then NATS drains.
      const direct = through(`http://127.0.0.1:${proxyPort}/v1/proxy/dist_slow/wait?ms=1000`);
      const overNats = new RpcClient(client).request(Subjects.invoke.request, { actor: { orgId: 'acme', userId: 'alice' }, invoke: { connection: 'dist_slow', method: 'GET', url: '/wait?ms=3000' } }, { timeoutMs: 20_000 });
      await eventually(() => expect(seen).toEqual(expect.arrayContaining(['/wait?ms=1000', '/wait?ms=3000'])));
      invokeProxy.child.kill('SIGTERM');
      await invokeProxy.waitForOutput(/invoke-proxy is stopping/);
      await expect(fetch(`http://127.0.0.1:${proxyPort}/health`)).rejects.toThrow();
      expect(await direct).toEqual({ status: 200, body: 'waited 1000' });
      expect(await overNats).toMatchObject({ status: 200, body: 'waited 3000' });
      expect(await invokeProxy.exited).toBe(0);
    } finally {
      await client.close();
      slow.closeAllConnections();
      slow.close();
    }
  }, 60_000);
});
