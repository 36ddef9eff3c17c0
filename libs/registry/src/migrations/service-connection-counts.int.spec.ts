import { DataSource } from 'typeorm';
import { eventStoreMigrations } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { CreateServices1731000001000 } from './1731000001000-create-services';
import { ServiceConnectionCounts1731000001100 } from './1731000001100-service-connection-counts';

describe('the connection counts migration (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A database as the earlier version left it: counts in `services`, kept by the services projection.
    await runMigrations(db.url, [...eventStoreMigrations, CreateServices1731000001000]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    await dataSource.query(
      `INSERT INTO services (org_id, link_name, name, auth_type, owner, connection_count, revision, created_at, updated_at)
       VALUES ('acme', 'crm', 'CRM', 'basic', 'alice', 2, 1, now(), now()), ('acme', 'idle', 'Idle', 'basic', 'alice', 0, 1, now(), now())`,
    );
    await dataSource.query(`INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ('projection:services', '1234', 57)`);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('starts the counts, and their subscription, where the services projection had got to', async () => {
    await runMigrations(db.url, [...eventStoreMigrations, CreateServices1731000001000, ServiceConnectionCounts1731000001100]);
    expect(await dataSource.query(`SELECT org_id, link_name, connection_count FROM service_connection_counts ORDER BY link_name`)).toEqual([{ org_id: 'acme', link_name: 'crm', connection_count: 2 }]);
    expect(await dataSource.query(`SELECT transaction_id::text, position::int FROM subscription_checkpoints WHERE name = 'projection:service-connection-counts'`)).toEqual([
      { transaction_id: '1234', position: 57 },
    ]);
  });
});
