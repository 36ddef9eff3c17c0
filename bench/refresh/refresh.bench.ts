/**
 * Proactive refresh under a stampede: N OAuth 2 credentials that all expire within the same minute, refreshed by
 * R token-refresh processes against one PostgreSQL and NATS, at a local token endpoint that rotates refresh tokens
 * (a second use of one is refused with invalid_grant and counted as a duplicate).
 *   npm run bench:refresh -- --credentials 10000 --replicas 3
 * Prints how many were refreshed before they expired, duplicates, failures, and the latency percentiles: from the
 * moment each credential was due to its refresh, and the time it had left before expiry.
 * Needs PostgreSQL at 127.0.0.1:5432 and NATS at 127.0.0.1:4222 (or TEST_DATABASE_URL / TEST_NATS_URL).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConnectionListProjection } from '@plugboard/connections';
import { connectionStreamId, serviceStreamId, type ConnectionEvent, type ServiceEvent, type StoredCredential } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { dueAt } from '@plugboard/refresh';
import { tokenRefreshMigrations } from '@plugboard/token-refresh';
import { createTestDatabase, runEntry, TEST_NATS_URL, testMasterKey, testNamespace, type RunningProcess } from '@plugboard/testing';
import { Keyring, Vault } from '@plugboard/vault';

const ORG = 'bench';
const connectionsReadModel = new ConnectionListProjection();

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const token = (prefix: string) => `${prefix}-${randomBytes(12).toString('base64url')}`;

/** A token endpoint that rotates refresh tokens: each is good once; a second use is a duplicate refresh. */
function startTokenEndpoint() {
  const owner = new Map<string, number>();
  const stats = { requests: 0, refreshed: 0, duplicates: 0, perCredential: new Map<number, number>() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const presented = new URLSearchParams(Buffer.concat(chunks).toString()).get('refresh_token') ?? '';
      const credential = owner.get(presented);
      if (credential === undefined) {
        stats.duplicates++;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_grant"}');
        return;
      }
      owner.delete(presented);
      const next = token('rt');
      owner.set(next, credential);
      stats.refreshed++;
      stats.perCredential.set(credential, (stats.perCredential.get(credential) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: token('at'), refresh_token: next, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  return {
    stats,
    issue(credential: number): string {
      const refreshToken = token('rt');
      owner.set(refreshToken, credential);
      return refreshToken;
    },
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      credentials: { type: 'string', default: '10000' },
      replicas: { type: 'string', default: '3' },
      'expire-in': { type: 'string', default: '150' },
      window: { type: 'string', default: '60' },
      margin: { type: 'string', default: '60' },
      jitter: { type: 'string', default: '30' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const n = Number(values.credentials);
  const replicaCount = Number(values.replicas);
  const expireIn = Number(values['expire-in']) * 1000;
  const windowMs = Number(values.window) * 1000;
  const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(36)} ${value}\n`);

  const db = await createTestDatabase();
  const endpoint = startTokenEndpoint();
  const tokenUrl = await endpoint.listen();
  const masterKey = testMasterKey();
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: TEST_NATS_URL,
    PLUGBOARD_NAMESPACE: testNamespace(),
    PLUGBOARD_MASTER_KEY: masterKey,
    PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1',
    DATABASE_POOL_SIZE: '12',
    LOG_LEVEL: 'debug',
    PLUGBOARD_REFRESH_MARGIN_SECONDS: String(values.margin),
    PLUGBOARD_REFRESH_JITTER_SECONDS: String(values.jitter),
    PLUGBOARD_REFRESH_CONCURRENCY: String(values.concurrency),
  };
  const replicas: RunningProcess[] = [];
  let dataSource: DataSource | undefined;
  try {
    await runMigrations(db.url, tokenRefreshMigrations);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    const store = new EventStore(dataSource);
    const vault = new Vault(Keyring.parse(masterKey));

    // One custom OAuth 2 service, and n connections of it, each authorized an hour before its token expires.
    const seedStart = Date.now();
    const firstExpiry = seedStart + expireIn;
    const clientSecretRef = randomUUID();
    const service: ServiceEvent = {
      type: 'ServiceCreated',
      data: {
        orgId: ORG,
        linkName: 'bench_oauth',
        name: 'Bench OAuth',
        authType: 'oauth2',
        baseUrl: null,
        allowedHosts: [],
        owner: 'bench',
        oauth2: { grantType: 'authorization_code', clientId: 'bench', authorizeUrl: null, accessTokenUrl: tokenUrl, refreshTokenUrl: null, paramType: 'header', scopes: [], scopeDelimiter: 'space', clientSecretRef },
        createdAt: new Date().toISOString(),
      },
    };
    await store.transaction(async (manager) => {
      await vault.put(manager, { id: clientSecretRef, orgId: ORG, purpose: 'service.clientSecret', value: token('secret') });
      await store.append(serviceStreamId(ORG, 'bench_oauth'), 0, [service], { manager });
    });
    const expiries = new Map<string, number>();
    const due = new Map<string, number>();
    const policy = { marginMs: Number(values.margin) * 1000, jitterMs: Number(values.jitter) * 1000 };
    const seedBatch = async (start: number) =>
      store.transaction(async (manager) => {
        for (let i = start; i < Math.min(n, start + 250); i++) {
          const linkName = `c${i}`;
          const ref = randomUUID();
          const expiresAt = firstExpiry + Math.floor((i / n) * windowMs);
          const authorizedAt = expiresAt - 3_600_000;
          expiries.set(ref, expiresAt);
          // The app's own rule, so the lag below is measured from when each credential really was due.
          due.set(ref, dueAt(ref, new Date(expiresAt), new Date(authorizedAt), policy).getTime());
          const credential: StoredCredential = { kind: 'oauth2', accessToken: token('at'), refreshToken: endpoint.issue(i), tokenType: 'bearer', expiresAt: new Date(expiresAt).toISOString(), scopes: null };
          const events: ConnectionEvent[] = [
            {
              type: 'ConnectionCreated',
              data: { orgId: ORG, linkName, name: linkName, service: { linkName: 'bench_oauth', type: 'custom', authType: 'oauth2' }, scopes: [], parameters: {}, useLoginUserCredentials: false, internal: false, owner: 'bench', createdAt: new Date().toISOString() },
            },
            {
              type: 'ConnectionAuthorized',
              data: { orgId: ORG, linkName, userId: null, credentialRef: ref, replacesCredentialRef: null, grantedScopes: null, expiresAt: new Date(expiresAt).toISOString(), authorizedBy: 'bench', authorizedAt: new Date(authorizedAt).toISOString() },
            },
          ];
          await vault.put(manager, { id: ref, orgId: ORG, purpose: `connection.${linkName}.credential`, value: credential });
          // With the connections read model, as connectionCommands would write it.
          await store.append(connectionStreamId(ORG, linkName), 0, events, { manager, inline: connectionsReadModel });
        }
      });
    // Four transactions at a time (the pool's size).
    const starts = Array.from({ length: Math.ceil(n / 250) }, (_, k) => k * 250);
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let start = starts.shift(); start !== undefined; start = starts.shift()) await seedBatch(start);
    }));
    const seeded = Date.now();

    // The replicas start once the credentials are there, as after a deployment; they build the schedule first.
    for (let i = 0; i < replicaCount; i++) replicas.push(runEntry('apps/token-refresh/src/main.ts', env));
    await Promise.all(replicas.map((r) => r.waitForOutput(/token-refresh is listening/, 180_000)));
    const started = Date.now();
    for (;;) {
      const [{ count }] = await dataSource.query(`SELECT count(*)::int AS count FROM refresh_schedule`);
      if (count >= n) break;
      if (Date.now() > firstExpiry) throw new Error(`the schedule holds only ${count} of ${n} credentials`);
      await sleep(250);
    }
    const built = Date.now();
    line('credentials', `${n}, expiring ${Math.round((firstExpiry - built) / 1000)}–${Math.round((firstExpiry + windowMs - built) / 1000)} s from now`);
    line('replicas', `${replicaCount} (margin ${values.margin} s, jitter ${values.jitter} s, ${values.concurrency} at once each)`);
    line('seeding / replicas up / schedule built', `${((seeded - seedStart) / 1000).toFixed(1)} s / ${((started - seeded) / 1000).toFixed(1)} s / ${((built - started) / 1000).toFixed(1)} s`);
    const dueTimes = [...due.values()].sort((a, b) => a - b);
    line('due', `${Math.round((dueTimes[0] - built) / 1000)}–${Math.round((dueTimes[dueTimes.length - 1] - built) / 1000)} s from now`);

    const deadline = firstExpiry + windowMs + 30_000;
    for (;;) {
      const [{ count }] = await dataSource.query(`SELECT count(DISTINCT data->>'credentialRef')::int AS count FROM events WHERE type = 'TokenRefreshed'`);
      if (count >= n || Date.now() > deadline) break;
      await sleep(1000);
    }
    // A double refresh, if any, would come right after.
    await sleep(3000);

    const refreshed: { ref: string; at: string; n: number }[] = await dataSource.query(
      `SELECT data->>'credentialRef' AS ref, min(data->>'refreshedAt') AS at, count(*)::int AS n FROM events WHERE type = 'TokenRefreshed' GROUP BY 1`,
    );
    const [{ failed }] = await dataSource.query(`SELECT count(*)::int AS failed FROM events WHERE type = 'TokenRefreshFailed'`);
    const [{ revoked }] = await dataSource.query(`SELECT count(*)::int AS revoked FROM events WHERE type = 'ConnectionRevoked'`);
    const lag: number[] = [];
    const headroom: number[] = [];
    let beforeExpiry = 0;
    for (const r of refreshed) {
      const at = Date.parse(r.at);
      const expiresAt = expiries.get(r.ref) as number;
      if (at < expiresAt) beforeExpiry++;
      lag.push(at - (due.get(r.ref) as number));
      headroom.push(expiresAt - at);
    }
    lag.sort((a, b) => a - b);
    headroom.sort((a, b) => a - b);
    const first = Math.min(...refreshed.map((r) => Date.parse(r.at)));
    const last = Math.max(...refreshed.map((r) => Date.parse(r.at)));
    const perReplica = replicas.map((r) => (r.output().match(/"msg":"token refreshed"/g) ?? []).length);
    const twice = [...endpoint.stats.perCredential.values()].filter((count) => count > 1).length;

    line('refreshed before expiry', `${beforeExpiry} of ${n}`);
    line('refreshed at all', `${refreshed.length} of ${n}`);
    line('duplicates', `${endpoint.stats.duplicates} refresh tokens presented twice, ${twice} credentials refreshed twice, ${refreshed.filter((r) => r.n > 1).length} with two TokenRefreshed`);
    line('token endpoint requests', `${endpoint.stats.requests}`);
    line('failures / revocations', `${failed} / ${revoked}`);
    line('refreshes per replica', perReplica.join(' / '));
    line('refresh rate', `${Math.round(refreshed.length / Math.max(1, (last - first) / 1000))} /s over ${((last - first) / 1000).toFixed(1)} s`);
    line('lag after due p50 / p90 / p99 / max', `${percentile(lag, 50)} / ${percentile(lag, 90)} / ${percentile(lag, 99)} / ${lag[lag.length - 1]} ms`);
    line('left before expiry min / p1 / p50', `${(headroom[0] / 1000).toFixed(1)} / ${(percentile(headroom, 1) / 1000).toFixed(1)} / ${(percentile(headroom, 50) / 1000).toFixed(1)} s`);
  } finally {
    await Promise.all(replicas.map((r) => r.stop('SIGTERM')));
    await dataSource?.destroy();
    await endpoint.close();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
