import pino from 'pino';
import { DataSource } from 'typeorm';
import { CONNECTION_DEGRADED_AFTER, connectionStreamId } from '@plugboard/contracts';
import { EventStore, eventStoreMigrations } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, eventually, type TestDatabase } from '@plugboard/testing';
import { connectionsMigrations } from '../connections.module';
import { ConnectionHealthMonitor } from './connection-health.monitor';

const at = '2026-11-23T10:00:00.000Z';

/** The invocations module's table as far as the monitor reads it (its migration belongs to libs/invocations). */
const INVOCATIONS = `CREATE TABLE invocations (id bigserial PRIMARY KEY, entry text, org_id text NOT NULL, user_id text NOT NULL, connection text NOT NULL,
  method text NOT NULL, host text, path text, status integer, error_code text, latency_ms integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`;
const insert = `INSERT INTO invocations (org_id, user_id, connection, method, host, path, status, error_code, latency_ms) VALUES ($1, 'alice', $2, 'GET', 'api.example.com', '/me', $3, $4, 1)`;

describe('connection health monitor (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let monitor: ConnectionHealthMonitor;
  const types = async () => (await store.readStream(connectionStreamId('acme', 'crm'))).map((e) => e.type);
  /**
   * Rows settle only once every older transaction on the PostgreSQL server has ended, other databases' included, so
   * while other test files run a round may read fewer than were written: read until `expected` have been counted.
   */
  const roundsUntil = async (expected: number) => {
    let read = 0;
    await eventually(async () => {
      read += await monitor.round();
      expect(read).toBe(expected);
    });
  };
  const health = async () => (await dataSource.query(`SELECT consecutive_failures, last_error FROM connection_health WHERE org_id = 'acme' AND link_name = 'crm'`))[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, [...eventStoreMigrations, ...connectionsMigrations]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, entities: [] })).initialize();
    await dataSource.query(INVOCATIONS);
    store = new EventStore(dataSource);
    monitor = new ConnectionHealthMonitor(store, pino({ level: 'silent' }));
    await store.append(connectionStreamId('acme', 'crm'), 0, [
      {
        type: 'ConnectionCreated',
        data: { orgId: 'acme', linkName: 'crm', name: 'CRM', service: { linkName: 'crm_api', type: 'custom', authType: 'api_key' }, scopes: [], parameters: {}, useLoginUserCredentials: false, internal: false, owner: 'alice', createdAt: at },
      },
    ]);
    // The connections read model, as the projection writes it.
    await dataSource.query(
      `INSERT INTO connections (org_id, link_name, name, service, service_type, auth_type, scopes, parameters, use_login_user_credentials, internal, owner, reauthorization_required, revision, created_at, updated_at)
       VALUES ('acme', 'crm', 'CRM', 'crm_api', 'custom', 'api_key', '[]', '{}', false, false, 'alice', false, 1, now(), now())`,
    );
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('waits for a batch that commits late with lower ids, then counts every row once and records the change', async () => {
    const late = dataSource.createQueryRunner();
    await late.connect();
    await late.startTransaction();
    await late.query(insert, ['acme', 'crm', 401, null]); // the lowest id, not yet committed
    for (let i = 1; i < CONNECTION_DEGRADED_AFTER; i++) await dataSource.query(insert, ['acme', 'crm', 401, null]);
    // Rows committed after a transaction still running are not read: the cursor must not pass the late row's id.
    expect(await monitor.round()).toBe(0);
    expect(await health()).toBeUndefined();
    await late.commitTransaction();
    await late.release();
    await roundsUntil(CONNECTION_DEGRADED_AFTER);
    expect(await health()).toMatchObject({ consecutive_failures: CONNECTION_DEGRADED_AFTER, last_error: { status: 401, host: 'api.example.com' } });
    expect(await types()).toEqual(['ConnectionCreated', 'ConnectionDegraded']);
    expect(await monitor.round()).toBe(0);
    expect(await types()).toEqual(['ConnectionCreated', 'ConnectionDegraded']);
  });

  it('ignores what Plugboard answered itself and unknown connections, and recovers at the next success', async () => {
    await dataSource.query(insert, ['acme', 'crm', null, 'connection_revoked']);
    await dataSource.query(insert, ['acme', 'nope', 401, null]);
    await dataSource.query(insert, ['globex', 'crm', 200, null]);
    await roundsUntil(3);
    expect(await health()).toMatchObject({ consecutive_failures: CONNECTION_DEGRADED_AFTER });
    expect(await dataSource.query(`SELECT org_id, link_name FROM connection_health ORDER BY org_id`)).toEqual([{ org_id: 'acme', link_name: 'crm' }]);
    await dataSource.query(insert, ['acme', 'crm', 204, null]);
    await roundsUntil(1);
    expect(await health()).toMatchObject({ consecutive_failures: 0, last_error: { status: 401 } });
    expect(await types()).toEqual(['ConnectionCreated', 'ConnectionDegraded', 'ConnectionRecovered']);
  });
});
