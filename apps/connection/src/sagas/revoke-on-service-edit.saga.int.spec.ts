import { DataSource } from 'typeorm';
import { connectionStreamId, serviceStreamId, type ConnectionEvent, type ServiceEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, type SubscriptionHandler } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { connectionMigrations } from '../connection.module';
import { RevokeOnServiceEditSaga } from './revoke-on-service-edit.saga';

const at = '2026-11-23T10:00:00.000Z';

function connection(linkName: string, service: string, useLoginUserCredentials = false): ConnectionEvent {
  return {
    type: 'ConnectionCreated',
    data: { orgId: 'acme', linkName, name: linkName, service: { linkName: service, type: 'custom', authType: 'basic' }, scopes: [], parameters: {}, useLoginUserCredentials, internal: false, owner: 'alice', createdAt: at },
  };
}
function authorized(linkName: string, userId: string | null, ref: string): ConnectionEvent {
  return { type: 'ConnectionAuthorized', data: { orgId: 'acme', linkName, userId, credentialRef: ref, replacesCredentialRef: null, grantedScopes: null, expiresAt: null, authorizedBy: userId ?? 'alice', authorizedAt: at } };
}

describe('revocation saga (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  const saga = () => new RevokeOnServiceEditSaga(store);
  const revocations = () =>
    dataSource.query(`SELECT stream_id, data->>'userId' AS user_id, count(*)::int AS n FROM events WHERE type = 'ConnectionRevoked' GROUP BY 1, 2 ORDER BY 1, 2`);

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, connectionMigrations);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    store = new EventStore(dataSource);
    await store.append(connectionStreamId('acme', 'one'), 0, [connection('one', 'crm'), authorized('one', null, '00000000-0000-4000-8000-000000000001')]);
    await store.append(connectionStreamId('acme', 'per_user'), 0, [
      connection('per_user', 'crm', true),
      authorized('per_user', 'alice', '00000000-0000-4000-8000-000000000002'),
      authorized('per_user', 'bob', '00000000-0000-4000-8000-000000000003'),
    ]);
    await store.append(connectionStreamId('acme', 'pending'), 0, [connection('pending', 'crm')]);
    await store.append(connectionStreamId('acme', 'other'), 0, [connection('other', 'billing'), authorized('other', null, '00000000-0000-4000-8000-000000000004')]);
    const edited: ServiceEvent = { type: 'ServiceEdited', data: { orgId: 'acme', linkName: 'crm', changedFields: ['name'], changes: { name: 'CRM 2' }, editedBy: 'alice', editedAt: at } };
    await store.append(serviceStreamId('acme', 'crm'), 'any', [edited]);
    await store.append(connectionStreamId('acme', 'later'), 0, [connection('later', 'crm'), authorized('later', null, '00000000-0000-4000-8000-000000000005')]);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('leaves nothing behind when it crashes after its revocations but before its checkpoint', async () => {
    const real = saga();
    const crashing: SubscriptionHandler = {
      name: real.name,
      category: real.category,
      eventTypes: real.eventTypes,
      async handle(events, manager) {
        await real.handle(events, manager);
        throw new Error('the process died here');
      },
    };
    await expect(new CatchUpSubscription(store, crashing).catchUp(2000)).rejects.toThrow('the process died here');
    expect(await revocations()).toEqual([]);
  });

  it('after the restart, revokes every credential of the edited service’s earlier connections exactly once', async () => {
    await new CatchUpSubscription(store, saga()).catchUp();
    expect(await revocations()).toEqual([
      { stream_id: 'connection-acme.one', user_id: null, n: 1 },
      { stream_id: 'connection-acme.per_user', user_id: 'alice', n: 1 },
      { stream_id: 'connection-acme.per_user', user_id: 'bob', n: 1 },
    ]);
    const [revoked] = await dataSource.query(`SELECT metadata FROM events WHERE type = 'ConnectionRevoked' LIMIT 1`);
    const [edit] = await dataSource.query(`SELECT event_id FROM events WHERE type = 'ServiceEdited'`);
    expect(revoked.metadata).toMatchObject({ orgId: 'acme', causationId: edit.event_id });
  });

  it('records nothing more when replayed from the start', async () => {
    await dataSource.query(`UPDATE subscription_checkpoints SET transaction_id = '0', position = 0 WHERE name = $1`, [saga().name]);
    await new CatchUpSubscription(store, saga()).catchUp();
    expect((await revocations()).map((r: { n: number }) => r.n)).toEqual([1, 1, 1]);
  });
});
