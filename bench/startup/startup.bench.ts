/**
 * Start to healthy, and memory at rest, of each app as production runs it (the compiled JavaScript of `npm run build`,
 * `node <the flags of npm run start:<app>> dist/apps/<app>/src/main.js`), with the same app run from its TypeScript sources through ts-node
 * (`tools/run.js`, as `npm start` does) measured in the same run as the peer.
 *   npm run bench:startup -- --runs 3 --rest 5
 * Start to healthy: from the spawn to the first 200 on /health/ready (HEALTH_PORT), on a database already migrated (a
 * rollout's restart; the migration is its own Job). Memory: the process's RSS (/proc/<pid>/status VmRSS) after `rest`
 * seconds of idling once healthy; CPU: the user + system time it spent until healthy (the wall clock on a
 * shared machine also counts the time others held the cores). The embedded process (`apps/plugboard`, every app in one, no NATS) is listed too,
 * healthy at its gateway's GET /health. Builds dist/ first when it is missing (`--build` rebuilds it).
 * Needs the PostgreSQL and NATS of the development machines (as the tests do).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '@plugboard/runtime';
import { createTestDatabase, TEST_NATS_URL, testMasterKey, testNamespace, WORKSPACE_ROOT } from '@plugboard/testing';
import { PRODUCTION_NODE_ARGS } from '../support/plugboard';

const APPS = ['gateway', 'service-registry', 'connection', 'token-refresh', 'invoke-proxy', 'plugboard'];
const EMBEDDED = 'plugboard';

interface Start {
  healthyMs: number;
  /** CPU time the process spent until healthy: less at the mercy of a busy machine than the wall clock. */
  cpuMs: number;
  rssMb: number;
}

/** user + system CPU time of a process (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function healthy(url: string, exited: () => boolean): Promise<void> {
  for (;;) {
    if (exited()) throw new Error(`the process exited before ${url} answered 200`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(5);
  }
}

/** One start of `app`: compiled (node dist/…/main.js) or from sources (node tools/run.js …/main.ts). */
async function start(app: string, compiled: boolean, env: Record<string, string>, restSeconds: number): Promise<Start> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const home = mkdtempSync(path.join(tmpdir(), 'plugboard-startup-'));
  const entry = compiled ? [...PRODUCTION_NODE_ARGS, path.join(WORKSPACE_ROOT, `dist/apps/${app}/src/main.js`)] : [path.join(WORKSPACE_ROOT, 'tools/run.js'), `apps/${app}/src/main.ts`];
  const embedded = app === EMBEDDED;
  const appEnv = { ...env, PORT: String(port), HEALTH_PORT: String(healthPort), PLUGBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`, PLUGBOARD_HOME: home };
  if (embedded) delete (appEnv as Record<string, string>).NATS_URL;
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, entry, { cwd: WORKSPACE_ROOT, env: { ...process.env, ...appEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  let gone = false;
  child.once('exit', () => (gone = true));
  try {
    await healthy(embedded ? `http://127.0.0.1:${port}/health` : `http://127.0.0.1:${healthPort}/health/ready`, () => gone);
    const healthyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpuMs = cpuMsOf(child.pid as number);
    await sleep(restSeconds * 1000);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return { healthyMs, cpuMs, rssMb: Number(rss?.[1]) / 1024 };
  } finally {
    child.kill('SIGTERM');
    if (!gone) await new Promise((resolve) => child.once('exit', resolve));
    rmSync(home, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, rest: { type: 'string', default: '5' }, build: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  const rest = Number(values.rest);
  if (values.build || !existsSync(path.join(WORKSPACE_ROOT, 'dist/apps/gateway/src/main.js'))) {
    execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/build.js')], { stdio: 'inherit' });
  }
  const db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, PLUGBOARD_MASTER_KEY: testMasterKey(), PLUGBOARD_NAMESPACE: testNamespace(), LOG_LEVEL: 'warn', NODE_ENV: 'production' };
  try {
    execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'dist/tools/migrate.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    process.stdout.write(`median of ${runs} starts each; RSS after ${rest} s at rest; targets: healthy ≤ 2000 ms, RSS ≤ 120 MB (compiled)\n`);
    process.stdout.write(`${'app'.padEnd(18)}${'compiled ms'.padStart(12)}${'CPU ms'.padStart(8)}${'RSS MB'.padStart(8)}${'ts-node ms'.padStart(12)}${'CPU ms'.padStart(8)}${'RSS MB'.padStart(8)}\n`);
    for (const app of APPS) {
      const compiled: Start[] = [];
      const sources: Start[] = [];
      for (let i = 0; i < runs; i++) {
        compiled.push(await start(app, true, env, rest));
        sources.push(await start(app, false, env, rest));
      }
      const cell = (starts: Start[], key: keyof Start, width: number) => median(starts.map((s) => s[key])).toFixed(0).padStart(width);
      process.stdout.write(
        `${app.padEnd(18)}${cell(compiled, 'healthyMs', 12)}${cell(compiled, 'cpuMs', 8)}${cell(compiled, 'rssMb', 8)}${cell(sources, 'healthyMs', 12)}${cell(sources, 'cpuMs', 8)}${cell(sources, 'rssMb', 8)}\n`,
      );
    }
  } finally {
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
