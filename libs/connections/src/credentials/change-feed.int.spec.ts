import { DataSource } from 'typeorm';
import { EventStore, eventStoreMigrations } from '@plugboard/event-store';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { ChangeFeed, type Change } from './change-feed';

describe('the change feed that drops cached credentials (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let seen: Change[];
  let feed: ChangeFeed;
  const revoked = (linkName: string) => [{ type: 'ConnectionRevoked', data: { orgId: 'acme', linkName } }];

  beforeEach(async () => {
    db = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: db.url, migrations: eventStoreMigrations, migrationsTableName: 'schema_migrations', extra: { max: 4 } }).initialize();
    await dataSource.runMigrations();
    store = new EventStore(dataSource);
    seen = [];
    feed = new ChangeFeed(store, (changes) => seen.push(...changes));
    await feed.sync();
  });

  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('hands over a change committed behind an older transaction still open, and the older one once it commits', async () => {
    const older = dataSource.createQueryRunner();
    await older.startTransaction();
    await store.append('connection-acme.late', 0, revoked('late'), { manager: older.manager });
    await store.append('connection-acme.crm', 0, revoked('crm'));

    // A projection would wait for the older transaction; a revocation must not.
    await feed.sync();
    expect(seen).toEqual([{ stream: 'connection', orgId: 'acme', linkName: 'crm' }]);

    await older.commitTransaction();
    await older.release();
    await feed.sync();
    expect(seen.map((c) => c.linkName)).toContain('late');
  });

  it('answers a sync with a read that began after the call, even while an earlier read is under way', async () => {
    for (let i = 0; i < 20; i++) {
      const earlier = feed.sync();
      await store.append(`connection-acme.c${i}`, 0, revoked(`c${i}`));
      await feed.sync();
      expect(seen.map((c) => c.linkName)).toContain(`c${i}`);
      await earlier;
    }
  });
});
