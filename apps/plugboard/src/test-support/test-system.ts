import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiKeys, SignInLinks } from '@plugboard/access';
import type { Role } from '@plugboard/contracts';
import { createClientTransport, RpcClient } from '@plugboard/messaging';
import { createLogger, dataSourceOptions, freePort, loadConfig } from '@plugboard/runtime';
import { createTestDatabase, TEST_NATS_URL, testMasterKey, testNamespace, type TestDatabase } from '@plugboard/testing';
import { Keyring, Vault } from '@plugboard/vault';
import { migrateAll, startAllApps } from '../embedded';

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test asserts its shape
}

export interface TestSystem {
  db: TestDatabase;
  /** Direct SQL on the system's database, to check what was (not) stored. */
  sql(query: string, params?: unknown[]): Promise<any[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A product's key (it acts for the user X-User-Id names), or with `user` a person's key (it acts as that user only). */
  key(orgId: string, role: Role, user?: string): Promise<string>;
  /**
   * A request as the test's one browser would make it with an API key: X-User-Id (alice unless said; null for none)
   * and the browser-binding cookie, so OAuth flows it starts complete where `browserHeaders` go.
   */
  call(method: string, path: string, key: string | null, body?: unknown, userId?: string | null): Promise<Reply>;
  /** A one-time sign-in token for a person (as `npm start` prints in its link): POST it to /v1/session/sign-in. */
  signInToken(person?: { orgId: string; userId: string; role: Role }, ttlMs?: number): Promise<string>;
  /** The cookie of the test's browser: send it to a callback to complete a flow `call` started (a browser would). */
  browserHeaders: { cookie: string };
  /** Everything the apps have logged so far. */
  logs(): string;
  /** Decrypts a vault entry, to check what was stored where (tests only). */
  vaultEntry<T>(id: string, orgId: string): Promise<T | null>;
  /** A client on the bus, as another product would use it. */
  rpc: RpcClient;
  /** Stops every app and starts them again on the same database, bus namespace and master key (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every app in this process, over the real NATS (a namespace of its own) and a fresh PostgreSQL database: the
 * gateway is called over HTTP like a user would, the apps answer over NATS like in distributed mode. `env` may be a
 * function of the gateway's port, for settings that name it (another host name for the same gateway, say).
 */
export async function startTestSystem(env: NodeJS.ProcessEnv | ((port: number) => NodeJS.ProcessEnv) = {}): Promise<TestSystem & { publicUrl: string }> {
  const db = await createTestDatabase();
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const masterKey = testMasterKey();
  const config = loadConfig({
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    PLUGBOARD_NAMESPACE: testNamespace(),
    PLUGBOARD_MASTER_KEY: masterKey,
    PORT: String(port),
    PLUGBOARD_PUBLIC_URL: publicUrl,
    // The providers the tests start listen on 127.0.0.1 over plain http.
    PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
    DATABASE_POOL_SIZE: '4',
    ...(typeof env === 'function' ? env(port) : env),
  });
  // Every line the apps log, at debug level, so tests can check that no secret is ever written.
  const logLines: string[] = [];
  const logger = createLogger('test', 'debug', { write: (line: string) => logLines.push(line) });
  await migrateAll(config);
  let system = await startAllApps(config, logger);
  const dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
  const bus = createClientTransport({ natsUrl: TEST_NATS_URL, namespace: config.PLUGBOARD_NAMESPACE, appName: 'test-product' });
  const browserHeaders = { cookie: `plugboard_browser=${randomBytes(32).toString('base64url')}` };
  return {
    db,
    publicUrl,
    sql: (query, params) => dataSource.query(query, params),
    key: async (orgId, role, user) => (await new ApiKeys(dataSource).create(orgId, role, user === undefined ? { actAs: 'any' } : { user })).key,
    browserHeaders,
    signInToken: async (person = { orgId: 'default', userId: 'admin', role: 'admin' }, ttlMs) => (await new SignInLinks(dataSource).create(person, ttlMs)).token,
    async call(method, path, key, body, userId = 'alice') {
      const headers: Record<string, string> = { ...browserHeaders };
      if (userId !== null) headers['x-user-id'] = userId;
      if (key) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${system.gatewayUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    logs: () => logLines.join(''),
    vaultEntry: (id, orgId) => new Vault(Keyring.parse(masterKey)).get(dataSource.manager, id, orgId),
    rpc: new RpcClient(bus),
    async restart() {
      await system.close();
      system = await startAllApps(config, logger);
    },
    async close() {
      await bus.close();
      await system.close();
      await dataSource.destroy();
      await db.drop();
    },
  };
}
