import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ConnectionListProjection, ConnectionRecord, CredentialRecord } from '@plugboard/connections';
import { ErrorCodes, Subjects } from '@plugboard/contracts';
import { EventStore, rebuildProjection, type Projection } from '@plugboard/event-store';
import { rpcDeadlines } from '@plugboard/messaging';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { OAUTH_TIMEOUT_MS, VERIFICATION_TIMEOUT_MS } from '@plugboard/outbound';
import { dataSourceOptions, freePort } from '@plugboard/runtime';
import { ServiceConnectionCountProjection, ServiceListProjection, ServiceRecord } from '@plugboard/registry';
import { createTestDatabase, eventually, runEntry, TEST_NATS_URL, testMasterKey, testNamespace, type RunningProcess, type TestDatabase } from '@plugboard/testing';
import { endOf, raceStop, type RaceClient } from '../test-support/revocation-race';
import { startUpstream, type Upstream } from '../test-support/upstream';
import { startBalancer } from './balancer';

/**
 * The cluster test (`npm run test:cluster`): every app as its own process on the real PostgreSQL and NATS, two
 * replicas each of invoke-proxy (behind a balancer, as behind a Service) and token-refresh, a mixed load of
 * commands and invocations while each app in turn is killed with SIGKILL and restarted. Then it checks, and
 * prints, that nothing was lost or done twice.
 */
const ORG = 'acme';
const WORKERS = 4;
const INVOKE_TIMEOUT_MS = 3_000;
/** The gateway's deadlines, as the apps derive them from their outbound timeouts (rpcDeadlines). */
const DEADLINES = rpcDeadlines({ invokeMs: INVOKE_TIMEOUT_MS, oauthMs: OAUTH_TIMEOUT_MS, verificationMs: VERIFICATION_TIMEOUT_MS });
const INVOKE_DEADLINE_MS = DEADLINES.of(Subjects.invoke.request);
const COMMAND_DEADLINE_MS = DEADLINES.longestCommandMs;
/** A call still unanswered this long after its deadline hung. */
const HUNG_AFTER_MS = 5_000;
const TOKEN_TTL_SECONDS = 20;
/** Error codes that say clearly why a call failed during the run: an app was down, or the state said no. */
const CLEAR_ERRORS = new Set<string>([
  ErrorCodes.unavailable,
  ErrorCodes.timeout,
  ErrorCodes.concurrencyConflict,
  ErrorCodes.connectionRevoked,
  ErrorCodes.connectionNotConnected,
  ErrorCodes.linkNameTaken,
  ErrorCodes.serviceNotFound,
  ErrorCodes.connectionNotFound,
]);

type Op = 'createService' | 'createConnection' | 'authorize' | 'proxy' | 'invoke' | 'editService' | 'revoke';
interface Outcome {
  op: Op;
  linkName: string;
  /** HTTP status; `refused` / `reset` when the gateway itself was down or died during the call (clear, immediate errors). */
  status: number | 'refused' | 'reset';
  code?: string;
  startedAt: number;
  ms: number;
  /** Sent as `X-Request-Id`: the events a command records carry it as their `correlationId`. */
  requestId?: string;
}

describe('cluster: every app in its own process, each killed in turn under load', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let key: string;
  let up: Upstream;
  let as: TestAuthorizationServer;
  let balancer: { port: number; close(): Promise<void> };
  let proxyPorts: number[];
  const apps = new Map<string, { entry: string; env: NodeJS.ProcessEnv; process: RunningProcess }>();
  const outcomes: Outcome[] = [];
  /** The load runs while this holds. */
  let running = false;
  const log = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

  const start = (name: string) => {
    const app = apps.get(name) as { entry: string; env: NodeJS.ProcessEnv; process: RunningProcess };
    app.process = runEntry(app.entry, app.env);
    return app.process.waitForOutput(/is listening/, 120_000);
  };

  async function call(method: string, path: string, body?: object, timeoutMs = COMMAND_DEADLINE_MS + HUNG_AFTER_MS, requestId?: string) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'x-user-id': 'alice', ...(body ? { 'content-type': 'application/json' } : {}), ...(requestId ? { 'x-request-id': requestId } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, body: json };
  }

  /** Runs one operation and records how it ended; a call past its deadline fails the test afterwards. */
  async function record(op: Op, linkName: string, run: (requestId: string) => Promise<{ status: number; body: any }>): Promise<boolean> {
    const started = Date.now();
    const requestId = `${op}-${randomBytes(6).toString('hex')}`;
    try {
      const { status, body } = await run(requestId);
      // /v1/proxy passes the API's own answer through; a failure of ours there has our error shape too.
      outcomes.push({ op, linkName, status, code: status >= 400 ? (body?.error?.code ?? 'unclear') : undefined, startedAt: started, ms: Date.now() - started, requestId });
      return status < 300;
    } catch (error) {
      // The gateway down: refused at once; the gateway killed during the call: the connection closes at once.
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const status = cause === 'ECONNREFUSED' ? 'refused' : cause === 'UND_ERR_SOCKET' || cause === 'ECONNRESET' ? 'reset' : 0;
      outcomes.push({ op, linkName, status, code: status === 0 ? (cause ?? (error as Error).name) : undefined, startedAt: started, ms: Date.now() - started });
      // As a client would: not straight back at a gateway that is down.
      await new Promise((resolve) => setTimeout(resolve, 250));
      return false;
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    up = await startUpstream();
    as = await startAuthorizationServer({ redirectUris: ['http://127.0.0.1/callback'], accessTokenTtlSeconds: TOKEN_TTL_SECONDS });
    env = {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      PLUGBOARD_NAMESPACE: testNamespace(),
      PLUGBOARD_MASTER_KEY: testMasterKey(),
      // "is listening" is an info line.
      LOG_LEVEL: 'info',
      DATABASE_POOL_SIZE: '4',
      PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
      PLUGBOARD_INVOKE_TIMEOUT_MS: String(INVOKE_TIMEOUT_MS),
      PLUGBOARD_SHUTDOWN_TIMEOUT_MS: '15000',
      // Tokens live 20 s: each is refreshed every few seconds, so refreshes run all through the kills.
      PLUGBOARD_REFRESH_MARGIN_SECONDS: '12',
      PLUGBOARD_REFRESH_JITTER_SECONDS: '2',
      PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: '5',
      PLUGBOARD_REFRESH_INTERVAL_MS: '300',
    };
    const migrate = runEntry('tools/migrate.ts', env);
    expect(await migrate.exited).toBe(0);
    const cli = runEntry('apps/gateway/src/cli/keys.cli.ts', env, ['create', '--org', ORG, '--role', 'admin']);
    [key] = await cli.waitForOutput(/pb_[A-Za-z0-9_-]{43}/);
    expect(await cli.exited).toBe(0);

    proxyPorts = [await freePort(), await freePort()];
    balancer = await startBalancer(proxyPorts);
    const entries: [string, string, NodeJS.ProcessEnv][] = [
      ['service-registry', 'service-registry', {}],
      ['connection', 'connection', {}],
      ['token-refresh#1', 'token-refresh', {}],
      ['token-refresh#2', 'token-refresh', {}],
      ['invoke-proxy#1', 'invoke-proxy', { PORT: String(proxyPorts[0]) }],
      ['invoke-proxy#2', 'invoke-proxy', { PORT: String(proxyPorts[1]) }],
      ['gateway', 'gateway', { PORT: String(port), PLUGBOARD_INVOKE_PROXY_URL: `http://127.0.0.1:${balancer.port}` }],
    ];
    for (const [name, app, own] of entries) apps.set(name, { entry: `apps/${app}/src/main.ts`, env: { ...env, ...own }, process: undefined as never });
    await Promise.all(entries.map(([name]) => start(name)));
    await eventually(async () => expect((await call('GET', '/health')).status).toBe(200), 30_000);
  }, 240_000);

  afterAll(async () => {
    running = false;
    await Promise.all([...apps.values()].map((a) => a.process?.stop('SIGKILL')));
    await balancer?.close();
    await up?.close();
    await as?.stop();
    await db?.drop();
  }, 60_000);

  it('sends no credential from either invoke-proxy replica once its revoke, delete or service edit is acknowledged', async () => {
    const headers = (userId: string) => ({ authorization: `Bearer ${key}`, 'x-user-id': userId });
    // Invocations reach a replica over the bus; proxied calls go to each replica in turn, straight.
    const client: RaceClient = {
      invoke: async (linkName, userId, call) =>
        endOf(await fetch(`${base}/v1/invoke`, { method: 'POST', headers: { ...headers(userId), 'content-type': 'application/json' }, body: JSON.stringify({ connection: linkName, method: 'GET', url: '/items', query: { call } }) })),
      proxy: async (linkName, userId, call) =>
        endOf(await fetch(`http://127.0.0.1:${proxyPorts[Number(userId.replace('user', '')) % 2]}/v1/proxy/${linkName}/items?call=${encodeURIComponent(call)}`, { headers: headers(userId) })),
    };
    const stops: Record<string, (linkName: string, service: string) => Promise<{ status: number }>> = {
      revoke: (linkName) => call('POST', `/v1/connections/${linkName}/revoke`, {}),
      delete: (linkName) => call('DELETE', `/v1/connections/${linkName}`),
      'service edit': (_linkName, service) => call('PATCH', `/v1/services/${service}`, { name: `${service} v2` }),
    };
    for (const [i, [what, stop]] of Object.entries(stops).entries()) {
      const [service, linkName, secret] = [`race_svc_${i}`, `race_${i}`, `race-secret-${i}`];
      expect((await call('POST', '/v1/services', { name: service, linkName: service, authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } })).status).toBe(201);
      expect((await call('POST', '/v1/connections', { name: linkName, linkName, service })).status).toBe(201);
      expect((await call('POST', `/v1/connections/${linkName}/authorize`, { values: { 'X-Api-Key': secret } })).status).toBe(200);
      const outcome = await raceStop(client, up, { linkName, secret, stop: async () => expect((await stop(linkName, service)).status).toBeLessThan(300) }, { stopAfterMs: 300 });
      log(`${what} under 150 users on both paths: ${JSON.stringify(outcome, (k, v) => (k === 'leaked' ? v.length : v))}`);
      expect(outcome.startedAfterAck).toBeGreaterThan(300);
      expect(outcome.leaked).toEqual([]);
    }
  }, 240_000);

  it('loses no acknowledged command, applies no event twice, refreshes no credential twice, and never leaves a call hanging', async () => {
    // Seed: API-key services with connected connections, and client-credentials connections whose tokens expire fast.
    const services: string[] = [];
    const connections: string[] = [];
    const apiKeyService = (linkName: string) => ({ name: linkName, linkName, authType: 'api_key', baseUrl: `${up.base}/api`, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } });
    for (let i = 0; i < 3; i++) {
      expect((await call('POST', '/v1/services', apiKeyService(`seed_${i}`))).status).toBe(201);
      services.push(`seed_${i}`);
    }
    const ccConnections = ['cc_0', 'cc_1', 'cc_2'];
    expect(
      (
        await call('POST', '/v1/services', {
          name: 'Machine',
          linkName: 'machine',
          authType: 'oauth2',
          baseUrl: `${up.base}/api`,
          oauth2: { grantType: 'client_credentials', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
        })
      ).status,
    ).toBe(201);
    for (const linkName of ccConnections) {
      expect((await call('POST', '/v1/connections', { name: linkName, linkName, service: 'machine' })).status).toBe(201);
      expect((await call('POST', `/v1/connections/${linkName}/authorize`, {})).status).toBe(200);
    }
    await as.resetCounters();
    const seededCcAuthorizations = ccConnections.length;

    running = true;
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
    const fresh = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;
    const worker = async () => {
      while (running) {
        const roll = Math.random();
        if (roll < 0.1) {
          const linkName = fresh('svc');
          if (await record('createService', linkName, (id) => call('POST', '/v1/services', apiKeyService(linkName), undefined, id))) services.push(linkName);
        } else if (roll < 0.25) {
          const linkName = fresh('conn');
          if (await record('createConnection', linkName, (id) => call('POST', '/v1/connections', { name: linkName, linkName, service: pick(services) }, undefined, id))) connections.push(linkName);
        } else if (roll < 0.4 && connections.length > 0) {
          const linkName = pick(connections);
          await record('authorize', linkName, (id) => call('POST', `/v1/connections/${linkName}/authorize`, { values: { 'X-Api-Key': 'k' } }, undefined, id));
        } else if (roll < 0.65 && connections.length > 0) {
          const linkName = pick([...connections, ...ccConnections]);
          await record('proxy', linkName, () =>
            fetch(`${base}/v1/proxy/${linkName}/items`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(INVOKE_DEADLINE_MS + HUNG_AFTER_MS) }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) })),
          );
        } else if (roll < 0.85 && connections.length > 0) {
          const linkName = pick([...connections, ...ccConnections]);
          await record('invoke', linkName, () => call('POST', '/v1/invoke', { connection: linkName, method: 'GET', url: '/items' }, INVOKE_DEADLINE_MS + HUNG_AFTER_MS));
        } else if (roll < 0.92) {
          const linkName = pick(services);
          await record('editService', linkName, (id) => call('PATCH', `/v1/services/${linkName}`, { name: fresh('Renamed') }, undefined, id));
        } else if (connections.length > 0) {
          const linkName = pick(connections);
          await record('revoke', linkName, (id) => call('POST', `/v1/connections/${linkName}/revoke`, {}, undefined, id));
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));

    // Each app in turn: killed outright, down a moment, started again, given a moment under load.
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const kills: string[] = [];
    try {
      await sleep(3_000);
      for (const name of ['service-registry', 'connection', 'token-refresh#1', 'invoke-proxy#1', 'gateway', 'token-refresh#2', 'invoke-proxy#2']) {
        const app = apps.get(name) as { process: RunningProcess };
        app.process.child.kill('SIGKILL');
        await app.process.exited;
        const killedAt = Date.now();
        await sleep(1_500);
        await start(name);
        kills.push(`${name} (down ${((Date.now() - killedAt) / 1000).toFixed(1)} s)`);
        await sleep(2_000);
      }
    } finally {
      running = false;
      await load;
    }
    log(`killed and restarted: ${kills.join(', ')}`);

    // Quiet: every subscription catches up with the log.
    // With the read models' entities: the projections are rebuilt through it below.
    const pg = await new DataSource(dataSourceOptions({ url: db.url, entities: [ServiceRecord, ConnectionRecord, CredentialRecord] })).initialize();
    try {
      // The subscriptions checked below, and the category each reads (its checkpoint moves within it only). The
      // services' and connections' read models have none: their commands write them (inline); the rebuild below checks them.
      const subscriptions: [string, string | null][] = [['projection:service-connection-counts', 'connection'], ['saga:revoke-on-service-edit', 'service']];
      const lagging = async () => {
        const behind: string[] = [];
        for (const [name, category] of subscriptions) {
          const [row] = await pg.query(
            `SELECT EXISTS (SELECT 1 FROM events e WHERE ($2::text IS NULL OR e.category = $2)
                              AND (e.transaction_id, e.global_position) > (c.transaction_id, c.position)) AS behind
               FROM subscription_checkpoints c WHERE c.name = $1`,
            [name, category],
          );
          if (!row || row.behind) behind.push(name);
        }
        return behind;
      };
      await eventually(async () => expect(await lagging()).toEqual([]), 30_000, 250);

      // Every app stops gracefully after all that.
      const stopped = await Promise.all([...apps.values()].map((a) => a.process.stop('SIGTERM')));
      expect(stopped).toEqual(stopped.map(() => 0));

      // 1. Every command that got a success reply has its own event in the log, found by the request id it sent.
      const events: { stream_id: string; stream_version: number; type: string; data: any; metadata: any; recorded_at: Date }[] = await pg.query(`SELECT stream_id, stream_version, type, data, metadata, recorded_at FROM events ORDER BY global_position`);
      const expected: Record<Exclude<Op, 'proxy' | 'invoke'>, [string, string]> = {
        createService: ['service', 'ServiceCreated'],
        editService: ['service', 'ServiceEdited'],
        createConnection: ['connection', 'ConnectionCreated'],
        authorize: ['connection', 'ConnectionAuthorized'],
        revoke: ['connection', 'ConnectionRevoked'],
      };
      const missing: string[] = [];
      let revokesRecorded = 0;
      const acknowledged = new Map<string, number>();
      const at = (e: { recorded_at: Date }) => new Date(e.recorded_at).getTime();
      for (const o of outcomes) {
        // 0: the client gave up (no answer), which acknowledges nothing.
        if (o.op === 'proxy' || o.op === 'invoke' || typeof o.status !== 'number' || o.status === 0 || o.status >= 300) continue;
        const [category, type] = expected[o.op];
        const stream = `${category}-${ORG}.${o.linkName}`;
        const key = `${stream} ${type}`;
        acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1);
        if (o.op === 'revoke') {
          // Revoking what is not connected succeeds and records nothing. So a revoke with no event of its own is lost
          // only if the connection was certainly connected when it read the stream: an authorization whose reply came
          // before the revoke began (committed, then), with no revocation after it that could have committed before the
          // revoke ended (`recorded_at` is when a statement began, never after its commit).
          const own = events.filter((e) => e.stream_id === stream);
          if (own.some((e) => e.type === 'ConnectionRevoked' && e.metadata?.correlationId === o.requestId)) {
            revokesRecorded++;
            continue;
          }
          const committedBefore = new Set(
            outcomes.filter((a) => a.op === 'authorize' && a.linkName === o.linkName && a.status === 200 && a.startedAt + a.ms < o.startedAt).map((a) => a.requestId),
          );
          const authorized = own.filter((e) => e.type === 'ConnectionAuthorized' && committedBefore.has(e.metadata?.correlationId)).at(-1);
          const revokedSince = authorized && own.some((e) => e.type === 'ConnectionRevoked' && e.stream_version > authorized.stream_version && at(e) <= o.startedAt + o.ms);
          if (authorized && !revokedSince) missing.push(key);
        } else if (!events.some((e) => e.stream_id === stream && e.type === type && e.metadata?.correlationId === o.requestId)) missing.push(`${key} (${o.requestId})`);
      }
      const acknowledgedTotal = [...acknowledged.values()].reduce((a, b) => a + b, 0);
      log(`commands acknowledged: ${acknowledgedTotal}; each with its event in the log: ${acknowledgedTotal - missing.length}; events in the log: ${events.length}; revokes that recorded a revocation: ${revokesRecorded}`);
      expect(missing).toEqual([]);
      expect(acknowledgedTotal).toBeGreaterThan(20);

      // 2. No event applied twice: the live read models equal the ones rebuilt from position 0, and every projection's
      // checkpoint is at the head of what it reads.
      const store = new EventStore(pg);
      const projections: Projection[] = [new ServiceListProjection(), new ServiceConnectionCountProjection(), new ConnectionListProjection()];
      const snapshot = async () => {
        const tables: Record<string, string[]> = {};
        for (const table of projections.flatMap((p) => p.tables)) tables[table] = (await pg.query(`SELECT row_to_json(t)::text AS row FROM ${table} t`)).map((r: { row: string }) => r.row).sort();
        return tables;
      };
      const live = await snapshot();
      for (const projection of projections) await rebuildProjection(store, projection);
      const rebuilt = await snapshot();
      const rows = Object.entries(live).map(([table, r]) => `${table} ${r.length}`);
      log(`read models (live = rebuilt from position 0): ${rows.join(', ')}; equal: ${JSON.stringify(live) === JSON.stringify(rebuilt)}`);
      expect(rebuilt).toEqual(live);
      const connectionCounts: { link_name: string; connection_count: number; created: number; deleted: number }[] = await pg.query(
        `SELECT s.link_name, coalesce((SELECT c.connection_count FROM service_connection_counts c WHERE c.org_id = s.org_id AND c.link_name = s.link_name), 0) AS connection_count,
                (SELECT count(*)::int FROM events e WHERE e.type = 'ConnectionCreated' AND e.data->'service'->>'linkName' = s.link_name) AS created,
                (SELECT count(*)::int FROM events e WHERE e.type = 'ConnectionDeleted' AND e.data->>'service' = s.link_name) AS deleted
           FROM services s WHERE s.org_id = $1`,
        [ORG],
      );
      // A counter shows a double application at once: each service counts its connections exactly once.
      expect(connectionCounts.filter((s) => s.connection_count !== s.created - s.deleted)).toEqual([]);

      // 3. No credential refreshed twice: between two refreshes of one credential its token lived most of its life,
      // and the token endpoint saw no more requests than there were refreshes and authorizations (plus those a killed
      // refresh replica may have sent without recording them).
      const refreshed = events.filter((e) => e.type === 'TokenRefreshed');
      const byCredential = new Map<string, number[]>();
      for (const e of refreshed) byCredential.set(e.data.credentialRef, [...(byCredential.get(e.data.credentialRef) ?? []), Date.parse(e.data.refreshedAt)]);
      const gaps = [...byCredential.values()].flatMap((times) => times.slice(1).map((t, i) => t - times[i]));
      const ccAuthorized = events.filter((e) => e.type === 'ConnectionAuthorized' && ccConnections.some((l) => e.stream_id === `connection-${ORG}.${l}`)).length - seededCcAuthorizations;
      const tokenRequests = await as.tokenRequests();
      log(
        `refreshes: ${refreshed.length} over ${byCredential.size} credentials; shortest gap between two refreshes of one credential: ${(Math.min(...gaps) / 1000).toFixed(1)} s; ` +
          `token requests: ${tokenRequests} (refreshes ${refreshed.length} + authorizations ${ccAuthorized}); failed refreshes: ${events.filter((e) => e.type === 'TokenRefreshFailed').length}`,
      );
      expect(byCredential.size).toBe(ccConnections.length);
      expect(Math.min(...gaps)).toBeGreaterThan(3_000);
      expect(tokenRequests).toBeGreaterThanOrEqual(refreshed.length + ccAuthorized);
      expect(tokenRequests).toBeLessThanOrEqual(refreshed.length + ccAuthorized + 2 * 16);
      expect(events.filter((e) => e.type === 'ConnectionRevoked' && e.data.reason === 'refresh_failed')).toEqual([]);
    } finally {
      await pg.destroy();
    }

    // 4. Invocations (and every other call) ended: succeeded, or a clear error; none hung past its deadline.
    const summary = new Map<string, number>();
    for (const o of outcomes) summary.set(`${o.op} ${o.status}${o.code ? ` ${o.code}` : ''}`, (summary.get(`${o.op} ${o.status}${o.code ? ` ${o.code}` : ''}`) ?? 0) + 1);
    log(`calls: ${outcomes.length}\n${[...summary.entries()].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n')}`);
    const deadlineOf = (o: Outcome) => (o.op === 'invoke' || o.op === 'proxy' ? INVOKE_DEADLINE_MS : COMMAND_DEADLINE_MS);
    const invocations = outcomes.filter((o) => o.op === 'invoke' || o.op === 'proxy');
    log(`invocations: ${invocations.length}, succeeded ${invocations.filter((o) => o.status === 200).length}, longest ${Math.max(...invocations.map((o) => o.ms))} ms (deadline ${INVOKE_DEADLINE_MS} ms)`);
    expect(outcomes.filter((o) => o.ms > deadlineOf(o) + HUNG_AFTER_MS)).toEqual([]);
    expect(outcomes.filter((o) => o.code !== undefined && !CLEAR_ERRORS.has(o.code))).toEqual([]);
    expect(invocations.filter((o) => o.status === 200).length).toBeGreaterThan(100);
  }, 300_000);
});
