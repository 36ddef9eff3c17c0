import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AckPolicy, connect, headers, type NatsConnection } from 'nats';
import { freePort } from '@plugboard/runtime';
import { createTestDatabase, eventually, runEntry, testMasterKey, WORKSPACE_ROOT, type RunningProcess, type TestDatabase } from '@plugboard/testing';
import { findNatsServer } from './test-support/test-tools';
import { startUpstream, type Upstream } from './test-support/upstream';

/**
 * The bus as deployed: nats-server runs deploy/kubernetes/nats.conf as shipped (the file docker-compose.yml mounts too),
 * each app connects as its own user, and the test checks both halves of the promise: the apps can do all their work,
 * and nobody can do more than their own (no anonymous client, no app publishing another's subjects or reading
 * another's replies, the events reader read-only, a product only on the products' API).
 */
const APPS = ['service-registry', 'connection', 'token-refresh', 'invoke-proxy', 'gateway'] as const;
const USERS = [...APPS, 'events-reader', 'product'] as const;
const passwordVariable = (user: string) => `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

describe('NATS with one user per app (deploy/kubernetes/nats.conf)', () => {
  let natsServer: ChildProcess;
  let natsUrl: string;
  let storeDir: string;
  let db: TestDatabase;
  let upstream: Upstream;
  let base: string;
  let env: NodeJS.ProcessEnv;
  let key: string;
  // As the deploy files make them: NATS reads a password variable as a value, so one starting with a digit would be a number.
  const passwords = Object.fromEntries(USERS.map((user) => [user, `p${randomBytes(18).toString('hex')}`]));
  const apps: RunningProcess[] = [];
  const clients: NatsConnection[] = [];

  const as = async (user: string, password = passwords[user]) => {
    const client = await connect({ servers: natsUrl, user, pass: password, inboxPrefix: `_INBOX.${user}`, reconnect: false });
    clients.push(client);
    return client;
  };
  const call = (method: string, route: string, body?: object) =>
    fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'x-user-id': 'alice', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
  beforeAll(async () => {
    const binary = findNatsServer();
    if (!binary) throw new Error('nats-server is not installed (npm test installs it on Debian as root)');
    const port = await freePort();
    natsUrl = `nats://127.0.0.1:${port}`;
    storeDir = mkdtempSync(path.join(tmpdir(), 'plugboard-nats-auth-'));
    const passwordEnv = Object.fromEntries(USERS.map((user) => [passwordVariable(user), passwords[user]]));
    natsServer = spawn(binary, ['-c', path.join(WORKSPACE_ROOT, 'deploy/kubernetes/nats.conf'), '-a', '127.0.0.1', '-p', String(port), '-m', String(await freePort()), '-sd', storeDir], {
      env: { PATH: process.env.PATH, ...passwordEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let natsLog = '';
    natsServer.stderr?.on('data', (chunk) => (natsLog += chunk));
    await eventually(() => connect({ servers: natsUrl, user: 'gateway', pass: passwords.gateway, reconnect: false }).then((c) => c.close()), 60_000, 100).catch((error) => {
      throw new Error(`nats-server with deploy/kubernetes/nats.conf did not come up (${error.message}):\n${natsLog.slice(-2000)}`);
    });

    db = await createTestDatabase();
    upstream = await startUpstream();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    env = {
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      PLUGBOARD_NAMESPACE: 'plugboard',
      PLUGBOARD_MASTER_KEY: testMasterKey(),
      PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
      DATABASE_POOL_SIZE: '4',
      LOG_LEVEL: 'info',
    };
    expect(await runEntry('tools/migrate.ts', env).exited).toBe(0);
    const proxyPort = await freePort();
    const own: Record<string, NodeJS.ProcessEnv> = {
      'invoke-proxy': { PORT: String(proxyPort) },
      gateway: { PORT: String(httpPort), PLUGBOARD_INVOKE_PROXY_URL: `http://127.0.0.1:${proxyPort}` },
    };
    for (const app of APPS) apps.push(runEntry(`apps/${app}/src/main.ts`, { ...env, NATS_USER: app, NATS_PASSWORD: passwords[app], ...own[app] }));
    await Promise.all(apps.map((app) => app.waitForOutput(/is listening/, 120_000)));
    const cli = runEntry('apps/gateway/src/cli/keys.cli.ts', env, ['create', '--org', 'acme', '--role', 'admin']);
    [key] = await cli.waitForOutput(/pb_[A-Za-z0-9_-]{43}/);
    expect(await cli.exited).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    const codes = await Promise.all(apps.map((app) => app.stop('SIGTERM')));
    natsServer?.kill('SIGTERM');
    await upstream?.close();
    await db?.drop();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    expect(codes).toEqual(APPS.map(() => 0));
  }, 60_000);

  it('lets every app do its work as its own user: health, commands across apps, invoke, events for products', async () => {
    await eventually(async () => expect((await call('GET', '/health')).status).toBe(200), 30_000, 200);
    const service = { name: 'Acme CRM', linkName: 'acme_crm', authType: 'api_key', baseUrl: upstream.base, apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] } };
    expect((await call('POST', '/v1/services', service)).status).toBe(201);
    expect((await call('POST', '/v1/connections', { name: 'CRM', linkName: 'crm', service: 'acme_crm' })).status).toBe(201);
    expect((await call('POST', '/v1/connections/crm/authorize', { values: { api_key: 'crm-key-over-auth-bus' } })).status).toBe(200);
    const invoked = await call('POST', '/v1/invoke', { connection: 'crm', method: 'GET', url: '/things' });
    expect(invoked.status).toBe(200);
    expect(upstream.seen.at(-1)?.headers.api_key).toBe('crm-key-over-auth-bus');

    // A product reads the log's events with the read-only user, as a durable JetStream consumer.
    const reader = await as('events-reader');
    const jsm = await reader.jetstreamManager();
    await jsm.consumers.add('PLUGBOARD_EVENTS', { durable_name: 'audit', ack_policy: AckPolicy.Explicit });
    const consumer = await reader.jetstream().consumers.get('PLUGBOARD_EVENTS', 'audit');
    const types: string[] = [];
    await eventually(async () => {
      const message = await consumer.next({ expires: 1000 });
      if (message) {
        types.push(message.json<{ type: string }>().type);
        message.ack();
      }
      expect(types).toEqual(expect.arrayContaining(['ServiceCreated', 'ConnectionCreated', 'ConnectionAuthorized']));
    }, 20_000, 0);
  }, 60_000);

  it("lets a product call the products' API as its API key says, and read the events", async () => {
    const product = await as('product');
    const withKey = headers();
    withKey.set('Authorization', `Bearer ${key}`);
    withKey.set('X-User-Id', 'alice');
    const reply = await product.request('plugboard.api.connections.get', JSON.stringify({ linkName: 'crm' }), { timeout: 10_000, headers: withKey });
    expect(reply.json()).toMatchObject({ ok: true, result: { linkName: 'crm', status: 'connected' } });
    const jsm = await product.jetstreamManager();
    await jsm.consumers.add('PLUGBOARD_EVENTS', { durable_name: 'product-audit', ack_policy: AckPolicy.Explicit, filter_subject: 'plugboard.events.ServiceCreated' });
    const message = await (await product.jetstream().consumers.get('PLUGBOARD_EVENTS', 'product-audit')).next({ expires: 5000 });
    expect(message?.json<{ type: string }>().type).toBe('ServiceCreated');
  });

  it('refuses clients without a user, or with a wrong password', async () => {
    await expect(connect({ servers: natsUrl, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: natsUrl, user: 'gateway', pass: 'not-the-password', reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it("keeps each user to its own subjects: no app sends another's commands, answers for it, or reads its replies", async () => {
    // The invoke proxy may ask for a refresh, not revoke a connection; the events reader may not command at all.
    for (const [user, subject] of [
      ['invoke-proxy', 'plugboard.connection.revokeConnection'],
      ['token-refresh', 'plugboard.invoke.request'],
      ['events-reader', 'plugboard.registry.getService'],
      // The connection app reads services in-process (ServiceDefinitions), never from the registry over the bus.
      ['connection', 'plugboard.registry.getService'],
      ['service-registry', 'plugboard.connection.getConnection'],
      // A product names its user by its key on plugboard.api.>, never by an actor on an internal subject.
      ['product', 'plugboard.registry.createService'],
      ['product', 'plugboard.invoke.request'],
    ]) {
      const client = await as(user);
      await expect(client.request(subject, '{}', { timeout: 2_000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    // The gateway may not stand in for the registry, nor listen to every app's replies.
    const gateway = await as('gateway');
    const refused: string[] = [];
    for (const subject of ['plugboard.registry.getService', '_INBOX.>', '_INBOX.connection.>']) {
      gateway.subscribe(subject, { queue: subject.startsWith('plugboard.') ? 'service-registry' : undefined, callback: (error) => error && refused.push(error.message.replace(/^'|'$/g, '')) });
    }
    const expected = ['"_INBOX.>"', '"_INBOX.connection.>"', '"plugboard.registry.getService" using queue "service-registry"'];
    await eventually(() => expect(refused.sort()).toEqual(expected.map((what) => `Permissions Violation for Subscription to ${what}`)), 5_000);
  });
});
