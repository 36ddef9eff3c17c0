import { Client } from 'pg';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Migrations = MixedList<Function | string>;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Entities = MixedList<Function | string | EntitySchema>;

export interface DatabaseOptions {
  url: string;
  entities?: Entities;
  migrations?: Migrations;
  poolSize?: number;
  applicationName?: string;
}

export function dataSourceOptions(options: DatabaseOptions) {
  return {
    type: 'postgres' as const,
    url: options.url,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, application_name: options.applicationName ?? 'plugboard' },
  };
}

/**
 * Applies pending migrations. An advisory lock makes concurrent starters (replicas, the embedded apps) wait for
 * one another instead of racing on the same DDL.
 */
export async function runMigrations(url: string, migrations: Migrations): Promise<void> {
  const dataSource = new DataSource({ ...dataSourceOptions({ url, migrations, poolSize: 1, applicationName: 'plugboard-migrate' }), migrationsTransactionMode: 'each' });
  await dataSource.initialize();
  try {
    await dataSource.query(`SELECT pg_advisory_lock(hashtext('plugboard:migrations'))`);
    await dataSource.runMigrations();
  } finally {
    await dataSource.query(`SELECT pg_advisory_unlock(hashtext('plugboard:migrations'))`).catch(() => undefined);
    await dataSource.destroy();
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type MigrationClasses = Function[];

/** The names of `migrations` not yet applied to the database at `url` (all of them on an empty database). */
export async function pendingMigrations(url: string, migrations: MigrationClasses): Promise<string[]> {
  const names = migrations.map((m) => new (m as new () => { name?: string })().name ?? m.name);
  const client = new Client({ connectionString: url, application_name: 'plugboard-migrations-check' });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM schema_migrations`).catch((error: { code?: string }) => {
      if (error.code === '42P01') return { rows: [] }; // undefined_table: nothing migrated yet
      throw error;
    });
    const applied = new Set(rows.map((r) => r.name));
    return names.filter((name) => !applied.has(name));
  } finally {
    await client.end();
  }
}

/**
 * Waits until `npm run migrate` (or the Kubernetes migration Job) has applied `migrations`, so an app never races
 * another on DDL and a rollout can start the apps alongside the migration. Gives up after `timeoutMs`.
 */
export async function waitForMigrations(url: string, migrations: MigrationClasses, options: { timeoutMs: number; pollMs?: number; onWaiting(pending: string[]): void }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let told = 0;
  for (;;) {
    const pending = await pendingMigrations(url, migrations);
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw new MigrationsPendingError(pending);
    if (Date.now() - told >= 30_000) {
      told = Date.now();
      options.onWaiting(pending);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/** The database lacks migrations this app needs, and nobody applied them in time. */
export class MigrationsPendingError extends Error {
  constructor(readonly pending: string[]) {
    super(`The database lacks ${pending.length} migration(s) this app needs (${pending.join(', ')}): run \`npm run migrate\` (the migration Job), or set PLUGBOARD_MIGRATE_ON_START=true.`);
    this.name = 'MigrationsPendingError';
  }
}
