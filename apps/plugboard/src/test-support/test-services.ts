import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { freePort } from '@plugboard/runtime';
import { startEmbeddedPostgres } from '../embedded-postgres';
import { findNatsServer } from './test-tools';

/** Where the tests look first: the variables of libs/testing, else the machine's own services. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export interface TestServices {
  /** The variables to hand the test run: TEST_DATABASE_URL and TEST_NATS_URL, pointing at what answers. */
  env: Record<string, string>;
  /** What was started, for the one line the runner prints (never a URL: the embedded one has a password). */
  started: string[];
  stop(): Promise<void>;
}

export interface ProvideOptions {
  /** The caller's environment: TEST_DATABASE_URL and TEST_NATS_URL are honoured when something answers there. */
  env: NodeJS.ProcessEnv;
  /** Where started services keep their data; removed by stop(). */
  workDir?: string;
}

/** Whether a PostgreSQL accepts a query at this URL within a second. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a NATS server greets on this URL within a second (a NATS server speaks first, with INFO). */
export function natsAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 4222) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('INFO ')));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, exited: () => string | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    const exit = exited();
    if (exit) throw new Error(`${what} stopped before it answered: ${exit}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000} s`);
}

async function startNats(binary: string, dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const logFile = path.join(dataDir, 'nats-server.log');
  const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir, '-l', logFile], { stdio: 'ignore' });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exit ${code ?? signal}${existsSync(logFile) ? `; ${readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' / ')}` : ''}`));
  child.once('error', (error) => (exit = error.message));
  await waitFor(() => natsAnswers(url), 'nats-server', () => exit);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * PostgreSQL and NATS for a test run: the ones that answer where the tests look, or ones of its own, started once
 * under a temporary folder on free ports (the embedded PostgreSQL of `npm start`, and nats-server with JetStream).
 * Throws if a service is needed and cannot be started; installing tools is the caller's decision (installMissing).
 */
export async function provideTestServices(options: ProvideOptions): Promise<TestServices> {
  const env: Record<string, string> = {};
  const started: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  let workDir = options.workDir;
  const dataDir = (name: string) => {
    workDir ??= mkdtempSync(path.join(tmpdir(), 'plugboard-test-'));
    const dir = path.join(workDir, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => undefined);
    stops.length = 0;
    if (workDir && !options.workDir) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const databaseUrl = options.env.TEST_DATABASE_URL || DEFAULT_DATABASE_URL;
    if (await postgresAnswers(databaseUrl)) {
      env.TEST_DATABASE_URL = databaseUrl;
    } else {
      // Its notes (as root, the temporary folder made traversable for the postgres system user) are not a tester's concern.
      const postgres = await startEmbeddedPostgres(dataDir('postgres'), pino({ level: 'error' }, pino.destination(2)));
      stops.push(postgres.stop);
      const url = new URL(postgres.url);
      url.pathname = '/postgres';
      env.TEST_DATABASE_URL = url.toString();
      started.push(`PostgreSQL on 127.0.0.1:${url.port}`);
    }
    const natsUrl = options.env.TEST_NATS_URL || DEFAULT_NATS_URL;
    if (await natsAnswers(natsUrl)) {
      env.TEST_NATS_URL = natsUrl;
    } else {
      const binary = findNatsServer(options.env);
      if (!binary) throw new Error('no NATS answers and nats-server is not installed');
      const nats = await startNats(binary, dataDir('nats'));
      stops.push(nats.stop);
      env.TEST_NATS_URL = nats.url;
      started.push(`NATS with JetStream on ${nats.url.slice('nats://'.length)}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, started, stop };
}
