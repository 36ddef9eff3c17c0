import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '@plugboard/runtime';
import { createTestDatabase, TEST_NATS_URL, testMasterKey, testNamespace, WORKSPACE_ROOT, type TestDatabase } from '@plugboard/testing';

/**
 * Plugboard as production runs it, for the benches: the compiled apps of `npm run build` (built first when dist/ is
 * missing), each a process of its own, on a fresh database of the development machine's PostgreSQL and, distributed,
 * its NATS. Logs at warn, as a production deployment would log a quiet run.
 */
export interface Deployment {
  /** The gateway: REST, /v1/invoke, and (embedded) /v1/proxy. */
  url: string;
  /** The invoke-proxy app's own /v1/proxy listener (distributed), or the gateway's (embedded). */
  proxyUrl: string;
  /** A product's key (X-User-Id names its user) of org `org`. */
  key: string;
  org: string;
  /** The deployment's database, to look at what its PostgreSQL backends cost. */
  databaseUrl: string;
  /** The bus namespace (distributed), for a product's NATS requests; null embedded (its bus is in-process). */
  namespace: string | null;
  processes: ChildProcess[];
  close(): Promise<void>;
}

const SERVICES = ['service-registry', 'connection', 'token-refresh', 'invoke-proxy', 'gateway'];

export function ensureBuilt(): void {
  if (!existsSync(path.join(WORKSPACE_ROOT, 'dist/apps/gateway/src/main.js'))) execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/build.js')], { stdio: 'inherit' });
}

/**
 * Node's flags for the compiled apps as production starts them: those `npm run start:gateway` passes (the image's
 * NODE_OPTIONS holds the same; deployment.unit.spec.ts checks that they agree).
 */
export const PRODUCTION_NODE_ARGS: string[] = (/^node((?: --\S+)*) dist\//.exec(JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')).scripts['start:gateway'])?.[1] ?? '')
  .split(' ')
  .filter(Boolean);

/** Node's own flags added for the apps' processes: PLUGBOARD_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them. */
const NODE_ARGS = [...PRODUCTION_NODE_ARGS, ...(process.env.PLUGBOARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];

function compiled(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, path.join(WORKSPACE_ROOT, 'dist', entry)], { cwd: WORKSPACE_ROOT, env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function answers(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnargs.join(' ')} exited with ${child.exitCode}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer within 2 minutes`);
}

async function stop(processes: ChildProcess[], db: TestDatabase, home?: string): Promise<void> {
  await Promise.all(
    processes.map(async (child) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );
  await db.drop();
  if (home) rmSync(home, { recursive: true, force: true });
}

/** `npm start`'s shape, compiled: every app in one process with the in-process bus (no NATS), on `env`'s database. */
export async function startEmbedded(env: Record<string, string> = {}): Promise<Deployment> {
  ensureBuilt();
  const db = await createTestDatabase();
  const home = mkdtempSync(path.join(tmpdir(), 'plugboard-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = compiled('apps/plugboard/src/main.js', { DATABASE_URL: db.url, PORT: String(port), PLUGBOARD_PUBLIC_URL: url, PLUGBOARD_HOME: home, PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1', ...env });
  // The key file is written after the apps answer; the start is over when the process says it is running.
  let output = '';
  const running = new Promise<void>((resolve) => child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()).includes('Plugboard is running') && resolve()));
  try {
    await answers(`${url}/health`, child);
    await running;
    const key = readFileSync(path.join(home, 'api-key'), 'utf8').trim();
    return { url, proxyUrl: url, key, org: 'default', databaseUrl: db.url, namespace: null, processes: [child], close: () => stop([child], db, home) };
  } catch (error) {
    await stop([child], db, home);
    throw error;
  }
}

/** Distributed mode, compiled: one process per app over NATS (a namespace of its own), migrated first as a rollout is. */
export async function startDistributed(env: Record<string, string> = {}): Promise<Deployment> {
  ensureBuilt();
  const db = await createTestDatabase();
  const [port, proxyPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const shared = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, PLUGBOARD_NAMESPACE: testNamespace(), PLUGBOARD_MASTER_KEY: testMasterKey(), PLUGBOARD_PUBLIC_URL: url, PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1', ...env };
  execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'dist/tools/migrate.js')], { env: { ...process.env, ...shared }, stdio: ['ignore', 'ignore', 'inherit'] });
  const processes: ChildProcess[] = [];
  try {
    for (const app of SERVICES) {
      const healthPort = await freePort();
      const child = compiled(`apps/${app}/src/main.js`, { ...shared, HEALTH_PORT: String(healthPort), PORT: String(app === 'gateway' ? port : app === 'invoke-proxy' ? proxyPort : await freePort()) });
      child.stdout?.resume();
      processes.push(child);
      await answers(`http://127.0.0.1:${healthPort}/health/ready`, child);
    }
    const key = execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'dist/apps/gateway/src/cli/keys.cli.js'), 'create', '--org', 'bench', '--role', 'admin'], { env: { ...process.env, ...shared } })
      .toString()
      .trim()
      .split('\n')
      .pop() as string;
    await answers(`${url}/health`, processes[processes.length - 1]);
    return { url, proxyUrl: `http://127.0.0.1:${proxyPort}`, key, org: 'bench', databaseUrl: db.url, namespace: shared.PLUGBOARD_NAMESPACE, processes, close: () => stop(processes, db) };
  } catch (error) {
    await stop(processes, db);
    throw error;
  }
}

export interface Figures {
  /** Completed operations per second. */
  rate: number;
  p50: number;
  p99: number;
}

/**
 * `concurrency` clients calling `operation` back to back for `seconds` (a client stops sooner after `limit(client)`
 * operations), after `warmup` calls (i < 0); latencies in ms.
 */
export async function drive(
  seconds: number,
  concurrency: number,
  operation: (client: number, i: number) => Promise<unknown>,
  options: { warmup?: number; limit?: (client: number) => number } = {},
): Promise<Figures> {
  const limit = options.limit ?? (() => Infinity);
  for (let i = 0; i < (options.warmup ?? 50); i++) await operation(0, -1 - i);
  const latencies: number[] = [];
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      for (let i = 0; Date.now() < deadline && i < limit(client); i++) {
        const begun = process.hrtime.bigint();
        await operation(client, i);
        latencies.push(Number(process.hrtime.bigint() - begun) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rate: latencies.length / ((Date.now() - started) / 1000), p50: at(0.5), p99: at(0.99) };
}

/** user + system CPU time of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The CPU time so far of the deployment's processes and of the PostgreSQL backends serving its database, in ms. */
export async function cpuMsOfDeployment(deployment: Deployment): Promise<{ apps: number; database: number }> {
  const client = new Client({ connectionString: deployment.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    const sum = (pids: number[]) => pids.reduce((total, pid) => total + (existsSync(`/proc/${pid}/stat`) ? cpuMsOf(pid) : 0), 0);
    return { apps: sum(deployment.processes.map((p) => p.pid as number)), database: sum(rows.map((r) => r.pid)) };
  } finally {
    await client.end();
  }
}
