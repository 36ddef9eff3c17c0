import { DataSource } from 'typeorm';
import { connectionStreamId, type ConnectionEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, eventStoreMigrations, projectionHandler, rebuildProjection } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { connectionsMigrations } from '../connections.module';
import { ConnectionRecord, CredentialRecord } from '../read-models/connection.record';
import { ConnectionListProjection } from './connection-list.projection';

const at = '2026-11-23T10:00:00.000Z';
const created = (linkName: string, useLoginUserCredentials = false): ConnectionEvent => ({
  type: 'ConnectionCreated',
  data: { orgId: 'acme', linkName, name: linkName, service: { linkName: 'crm', type: 'custom', authType: 'oauth2' }, scopes: ['read'], parameters: {}, useLoginUserCredentials, internal: false, owner: 'alice', createdAt: at },
});
const authorized = (linkName: string, userId: string | null, ref: string): ConnectionEvent => ({
  type: 'ConnectionAuthorized',
  data: { orgId: 'acme', linkName, userId, credentialRef: ref, replacesCredentialRef: null, grantedScopes: ['read'], expiresAt: '2026-11-23T11:00:00.000Z', authorizedBy: userId ?? 'alice', authorizedAt: at },
});

describe('connections projection (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  const projection = new ConnectionListProjection();
  const snapshot = async () => ({
    connections: await dataSource.getRepository(ConnectionRecord).find({ order: { linkName: 'ASC' } }),
    credentials: await dataSource.getRepository(CredentialRecord).find({ order: { linkName: 'ASC', userKey: 'ASC' } }),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, [...eventStoreMigrations, ...connectionsMigrations]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, entities: [ConnectionRecord, CredentialRecord] })).initialize();
    store = new EventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('keeps one row per connection and per credential, follows edits, revocations and deletions', async () => {
    await store.append(connectionStreamId('acme', 'a'), 0, [
      created('a'),
      authorized('a', null, '00000000-0000-4000-8000-00000000000a'),
      { type: 'ConnectionEdited', data: { orgId: 'acme', linkName: 'a', changedFields: ['scopes'], changes: { scopes: ['read', 'write'] }, reauthorizationRequired: true, editedBy: 'alice', editedAt: at } },
    ]);
    await store.append(connectionStreamId('acme', 'b'), 0, [
      created('b', true),
      authorized('b', 'alice', '00000000-0000-4000-8000-00000000000b'),
      authorized('b', 'bob', '00000000-0000-4000-8000-00000000000c'),
      { type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'b', userId: 'bob', reason: 'refresh_failed', credentialRef: '00000000-0000-4000-8000-00000000000c', revokedBy: 'plugboard', revokedAt: at } },
    ]);
    await store.append(connectionStreamId('acme', 'c'), 0, [
      created('c'),
      { type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'c', service: 'crm', credentialRefs: [], deletedBy: 'alice', deletedAt: at } },
    ]);
    await new CatchUpSubscription(store, projectionHandler(projection)).catchUp();
    const { connections, credentials } = await snapshot();
    expect(connections.map((c) => [c.linkName, c.scopes, c.reauthorizationRequired])).toEqual([
      ['a', ['read', 'write'], true],
      ['b', ['read'], false],
    ]);
    expect(credentials.map((k) => [k.linkName, k.userKey, k.status, k.revokedReason])).toEqual([
      ['a', '*', 'connected', null],
      ['b', 'alice', 'connected', null],
      ['b', 'bob', 'revoked', 'refresh_failed'],
    ]);
  });

  it('rebuilds from position 0 into the same rows', async () => {
    const before = await snapshot();
    await rebuildProjection(store, projection);
    expect(await snapshot()).toEqual(before);
  });
});
