import { DataSource } from 'typeorm';
import { connectionStreamId, type ConnectionEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, projectionHandler, rebuildProjection } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { loadRefreshSettings } from '../refresh/refresh-settings';
import { testMigrations } from '../test-support/harness';
import { VerifySchedule } from '../verify/verify-schedule';
import { VerifyScheduleProjection } from './verify-schedule.projection';

const at = '2026-11-23T10:00:00.000Z';
const inAnHour = '2026-11-23T11:00:00.000Z';
const ref = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function created(linkName: string): ConnectionEvent {
  return {
    type: 'ConnectionCreated',
    data: { orgId: 'acme', linkName, name: linkName, service: { linkName: 'keys', type: 'custom', authType: 'api_key' }, scopes: [], parameters: {}, useLoginUserCredentials: true, internal: false, owner: 'alice', createdAt: at },
  };
}
function authorized(linkName: string, userId: string | null, credentialRef: string, expiresAt: string | null, replacesCredentialRef: string | null = null): ConnectionEvent {
  return { type: 'ConnectionAuthorized', data: { orgId: 'acme', linkName, userId, credentialRef, replacesCredentialRef, grantedScopes: null, expiresAt, authorizedBy: userId ?? 'alice', authorizedAt: at } };
}

describe('verify schedule projection (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let projection: VerifyScheduleProjection;
  const rows = () => dataSource.query(`SELECT credential_ref, link_name, user_id, next_check_at, attempts FROM verify_schedule ORDER BY credential_ref`);
  const catchUp = () => new CatchUpSubscription(store, projectionHandler(projection)).catchUp();

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, testMigrations);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    store = new EventStore(dataSource);
    projection = new VerifyScheduleProjection(new VerifySchedule(store, loadRefreshSettings({ PLUGBOARD_VERIFY_INTERVAL_MS: '3600000' })));
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('schedules credentials without expiry one interval after their authorization, not the ones that expire', async () => {
    await store.append(connectionStreamId('acme', 'keys'), 0, [created('keys'), authorized('keys', 'alice', ref(1), null), authorized('keys', 'bob', ref(2), null), authorized('keys', 'carol', ref(3), inAnHour)]);
    await catchUp();
    expect(await rows()).toEqual([
      { credential_ref: ref(1), link_name: 'keys', user_id: 'alice', next_check_at: new Date(inAnHour), attempts: 0 },
      { credential_ref: ref(2), link_name: 'keys', user_id: 'bob', next_check_at: new Date(inAnHour), attempts: 0 },
    ]);
  });

  it('forgets revoked, replaced and deleted credentials, and a token that a refresh gave an expiry', async () => {
    await store.append(connectionStreamId('acme', 'keys'), 'any', [
      { type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'keys', userId: 'alice', reason: 'verification_failed', credentialRef: ref(1), revokedBy: 'plugboard', revokedAt: at } },
      authorized('keys', 'bob', ref(4), null, ref(2)),
      { type: 'TokenRefreshed', data: { orgId: 'acme', linkName: 'keys', userId: 'dave', credentialRef: ref(9), expiresAt: null, refreshTokenRotated: false, refreshedAt: at } },
    ]);
    await store.append(connectionStreamId('acme', 'gone'), 0, [created('gone'), authorized('gone', 'alice', ref(5), null)]);
    await store.append(connectionStreamId('acme', 'gone'), 'any', [{ type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'gone', service: 'keys', credentialRefs: [ref(5)], deletedBy: 'alice', deletedAt: at } }]);
    await catchUp();
    expect((await rows()).map((r: { credential_ref: string }) => r.credential_ref)).toEqual([ref(4), ref(9)]);
    await store.append(connectionStreamId('acme', 'keys'), 'any', [{ type: 'TokenRefreshed', data: { orgId: 'acme', linkName: 'keys', userId: 'dave', credentialRef: ref(9), expiresAt: inAnHour, refreshTokenRotated: false, refreshedAt: at } }]);
    await catchUp();
    expect((await rows()).map((r: { credential_ref: string }) => r.credential_ref)).toEqual([ref(4)]);
  });

  it('rebuilds to the same schedule', async () => {
    const before = await rows();
    await rebuildProjection(store, projection);
    expect(await rows()).toEqual(before);
  });
});
