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
