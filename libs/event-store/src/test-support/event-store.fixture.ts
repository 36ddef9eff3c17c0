import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { EventStore } from '../event-store';
import { eventStoreMigrations } from '../migrations/1731000000000-create-event-log';
import { EventLogNotifier } from '../notifier';

export interface StoreFixture {
  db: TestDatabase;
  dataSource: DataSource;
  notifier: EventLogNotifier;
  store: EventStore;
  /** A second store with its own pool and notifier: stands for another process. */
  connectAnother(): Promise<{ store: EventStore; close(): Promise<void> }>;
  close(): Promise<void>;
}

export async function openDataSource(url: string, poolSize = 10): Promise<DataSource> {
  const dataSource = new DataSource({ type: 'postgres', url, migrations: eventStoreMigrations, migrationsTableName: 'schema_migrations', extra: { max: poolSize } });
  await dataSource.initialize();
  return dataSource;
}

/** A fresh database with the event log, and a store over it. */
export async function storeFixture(): Promise<StoreFixture> {
  const db = await createTestDatabase();
  const dataSource = await openDataSource(db.url, 25);
  await dataSource.runMigrations();
  const notifier = new EventLogNotifier(db.url);
  await notifier.start();
  const others: (() => Promise<void>)[] = [];
  return {
    db,
    dataSource,
    notifier,
    store: new EventStore(dataSource, notifier),
    async connectAnother() {
      const ds = await openDataSource(db.url);
      const n = new EventLogNotifier(db.url);
      await n.start();
      const close = async () => {
        await n.stop();
        await ds.destroy();
      };
      others.push(close);
      return { store: new EventStore(ds, n), close };
    },
    async close() {
      for (const close of others) await close().catch(() => undefined);
      await notifier.stop();
      await dataSource.destroy();
      await db.drop();
    },
  };
}
