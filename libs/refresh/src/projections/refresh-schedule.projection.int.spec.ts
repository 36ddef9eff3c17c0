import { DataSource } from 'typeorm';
import { connectionStreamId, type ConnectionEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, projectionHandler, rebuildProjection } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { RefreshSchedule } from '../refresh/refresh-schedule';
import { loadRefreshSettings } from '../refresh/refresh-settings';
import { testMigrations } from '../test-support/harness';
import { RefreshScheduleProjection } from './refresh-schedule.projection';

const at = '2026-11-23T10:00:00.000Z';
const inAnHour = '2026-11-23T11:00:00.000Z';
const ref = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function created(linkName: string, useLoginUserCredentials = false): ConnectionEvent {
  return {
    type: 'ConnectionCreated',
    data: { orgId: 'acme', linkName, name: linkName, service: { linkName: 'crm', type: 'custom', authType: 'oauth2' }, scopes: [], parameters: {}, useLoginUserCredentials, internal: false, owner: 'alice', createdAt: at },
  };
}
function authorized(linkName: string, userId: string | null, credentialRef: string, expiresAt: string | null, replacesCredentialRef: string | null = null): ConnectionEvent {
  return { type: 'ConnectionAuthorized', data: { orgId: 'acme', linkName, userId, credentialRef, replacesCredentialRef, grantedScopes: null, expiresAt, authorizedBy: userId ?? 'alice', authorizedAt: at } };
}
function refreshed(linkName: string, userId: string | null, credentialRef: string, expiresAt: string): ConnectionEvent {
  return { type: 'TokenRefreshed', data: { orgId: 'acme', linkName, userId, credentialRef, expiresAt, refreshTokenRotated: true, refreshedAt: inAnHour } };
}

describe('refresh schedule projection (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let projection: RefreshScheduleProjection;
  const rows = () => dataSource.query(`SELECT credential_ref, link_name, user_id, expires_at, due_at, next_attempt_at, attempts FROM refresh_schedule ORDER BY credential_ref`);
  const catchUp = () => new CatchUpSubscription(store, projectionHandler(projection)).catchUp();

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, testMigrations);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    store = new EventStore(dataSource);
    projection = new RefreshScheduleProjection(new RefreshSchedule(store, loadRefreshSettings({})));
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('schedules every credential that expires, the margin and its jitter before it does', async () => {
    await store.append(connectionStreamId('acme', 'crm'), 0, [created('crm'), authorized('crm', null, ref(1), inAnHour)]);
    await store.append(connectionStreamId('acme', 'team'), 0, [created('team', true), authorized('team', 'bob', ref(2), inAnHour), authorized('team', 'carol', ref(3), null)]);
    await catchUp();
    const scheduled = await rows();
    expect(scheduled.map((r: { credential_ref: string; user_id: string | null }) => [r.credential_ref, r.user_id])).toEqual([
      [ref(1), null],
      [ref(2), 'bob'],
    ]);
    for (const row of scheduled) {
      const lead = new Date(inAnHour).getTime() - row.due_at.getTime();
      expect(lead).toBeGreaterThanOrEqual(300_000);
      expect(lead).toBeLessThanOrEqual(360_000);
      expect(row.next_attempt_at).toEqual(row.due_at);
    }
  });

  it('moves a refreshed credential forward, forgets revoked, replaced and deleted ones', async () => {
    const later = '2026-11-23T12:00:00.000Z';
    await store.append(connectionStreamId('acme', 'crm'), 'any', [refreshed('crm', null, ref(1), later)]);
    await store.append(connectionStreamId('acme', 'team'), 'any', [
      { type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'team', userId: 'bob', reason: 'refresh_failed', credentialRef: ref(2), revokedBy: 'plugboard', revokedAt: at } },
    ]);
    await store.append(connectionStreamId('acme', 'other'), 0, [created('other'), authorized('other', null, ref(4), inAnHour), authorized('other', null, ref(5), inAnHour, ref(4))]);
    await store.append(connectionStreamId('acme', 'gone'), 0, [created('gone'), authorized('gone', null, ref(6), inAnHour)]);
    await store.append(connectionStreamId('acme', 'gone'), 'any', [{ type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'gone', service: 'crm', credentialRefs: [ref(6)], deletedBy: 'alice', deletedAt: at } }]);
    // A refresh recorded for a credential that was revoked meanwhile does not bring it back.
    await store.append(connectionStreamId('acme', 'team'), 'any', [refreshed('team', 'bob', ref(2), later)]);
    await catchUp();
    const scheduled = await rows();
    expect(scheduled.map((r: { credential_ref: string }) => r.credential_ref)).toEqual([ref(1), ref(5)]);
    expect(scheduled[0].expires_at).toEqual(new Date(later));
    expect(scheduled[0].due_at.getTime()).toBeLessThan(new Date(later).getTime() - 300_000 + 1);
  });

  it('rebuilds to the same schedule', async () => {
    const before = await rows();
    await rebuildProjection(store, projection);
    expect(await rows()).toEqual(before);
  });
});
