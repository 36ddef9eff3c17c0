import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager } from 'typeorm';
import { connectionStreamId, serviceClientStreamId, serviceStreamId, type ConnectionEvent, type ServiceClientEvent, type ServiceEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, eventStoreMigrations, type SubscriptionHandler } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { connectionsMigrations } from '../connections.module';
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
    await runMigrations(db.url, [...eventStoreMigrations, ...connectionsMigrations]);
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

describe('revocation saga with authorizations racing the edit (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let ref = 0;
  const nextRef = () => `00000000-0000-4000-8000-${String(++ref).padStart(12, '0')}`;
  const edited = (service: string): ServiceEvent => ({ type: 'ServiceEdited', data: { orgId: 'acme', linkName: service, changedFields: ['name'], changes: { name: 'v2' }, editedBy: 'alice', editedAt: at } });
  const authorize = (linkName: string, userId: string | null = null, manager?: EntityManager) =>
    store.append(connectionStreamId('acme', linkName), 'any', [authorized(linkName, userId, nextRef())], { manager });
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  /** Every (stream, user, reference) revoked for the service, and what log order says must be: the credential in force at the edit. */
  async function revokedAndExpected(service: string): Promise<{ revoked: string[]; expected: string[] }> {
    const rows = (sql: string) => dataSource.query(sql, [serviceStreamId('acme', service), `connection-acme.${service}_%`]).then((r: { k: string }[]) => r.map((x) => x.k).sort());
    const revoked = await rows(
      `SELECT stream_id || '/' || coalesce(data->>'userId', '*') || '/' || (data->>'credentialRef') AS k FROM events
        WHERE type = 'ConnectionRevoked' AND stream_id LIKE $2 AND $1 <> ''`,
    );
    const expected = await rows(
      `WITH edit AS (SELECT transaction_id, global_position FROM events WHERE stream_id = $1 AND type = 'ServiceEdited'),
            latest AS (SELECT DISTINCT ON (stream_id, coalesce(data->>'userId', '*')) * FROM events
                        WHERE type = 'ConnectionAuthorized' AND stream_id LIKE $2
                        ORDER BY stream_id, coalesce(data->>'userId', '*'), stream_version DESC)
       SELECT latest.stream_id || '/' || coalesce(latest.data->>'userId', '*') || '/' || (latest.data->>'credentialRef') AS k
         FROM latest, edit WHERE (latest.transaction_id, latest.global_position) < (edit.transaction_id, edit.global_position)`,
    );
    return { revoked, expected };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, [...eventStoreMigrations, ...connectionsMigrations]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    store = new EventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('revokes exactly the credentials authorized before the edit in log order, per-user ones included', async () => {
    const before = names('crm_before', 5);
    const racers = names('crm_race', 24);
    const after = names('crm_after', 5);
    for (const name of [...before, ...racers, ...after, 'crm_straddle']) await store.append(connectionStreamId('acme', name), 0, [connection(name, 'crm')]);
    await store.append(connectionStreamId('acme', 'crm_team'), 0, [connection('crm_team', 'crm', true)]);
    for (const name of before) await authorize(name);
    await authorize('crm_team', 'alice');
    await authorize('crm_team', 'bob');

    // A transaction that began before the edit (it holds a transaction id, as the vault write of an authorization
    // does) and commits after it: before the edit in log order, though its position is higher.
    const straddler = dataSource.createQueryRunner();
    await straddler.connect();
    await straddler.startTransaction();
    await straddler.query(`SELECT pg_current_xact_id()`);

    // The edit lands in the middle of a burst of authorizations, each of which may commit on either side of it.
    await Promise.all([
      ...racers.map((name, i) => sleep(i % 12).then(() => authorize(name))),
      sleep(6).then(() => store.append(serviceStreamId('acme', 'crm'), 'any', [edited('crm')])),
    ]);
    await authorize('crm_straddle', null, straddler.manager);
    await straddler.commitTransaction();
    await straddler.release();

    for (const name of after) await authorize(name);
    await authorize('crm_team', 'carol');
    await authorize('crm_team', 'alice'); // alice again, with the edited service: her earlier credential is replaced

    await new CatchUpSubscription(store, new RevokeOnServiceEditSaga(store)).catchUp();
    const { revoked, expected } = await revokedAndExpected('crm');
    expect(revoked).toEqual(expected);
    const streamsOf = (keys: string[]) => new Set(keys.map((k) => k.split('/').slice(0, 2).join('/')));
    const revokedStreams = streamsOf(revoked);
    for (const name of [...before, 'crm_straddle']) expect(revokedStreams).toContain(`connection-acme.${name}/*`);
    expect(revokedStreams).toContain('connection-acme.crm_team/bob');
    for (const name of after) expect(revokedStreams).not.toContain(`connection-acme.${name}/*`);
    expect(revokedStreams).not.toContain('connection-acme.crm_team/alice');
    expect(revokedStreams).not.toContain('connection-acme.crm_team/carol');

    // Replayed from the start, with the later authorizations all in place: nothing more.
    await dataSource.query(`UPDATE subscription_checkpoints SET transaction_id = '0', position = 0`);
    await new CatchUpSubscription(store, new RevokeOnServiceEditSaga(store)).catchUp();
    expect((await revokedAndExpected('crm')).revoked).toEqual(revoked);
  });

  it('leaves an authorization that committed after the edit in log order, even with a lower position, and whatever the saga saw first', async () => {
    await store.append(connectionStreamId('acme', 'erp_late'), 0, [connection('erp_late', 'erp')]);
    await store.append(connectionStreamId('acme', 'erp_early'), 0, [connection('erp_early', 'erp'), authorized('erp_early', null, nextRef())]);
    // The edit's transaction takes its id first; the authorization's takes a later one but writes its event first.
    const edit = dataSource.createQueryRunner();
    const late = dataSource.createQueryRunner();
    await Promise.all([edit.connect(), late.connect()]);
    await edit.startTransaction();
    await edit.query(`SELECT pg_current_xact_id()`);
    await late.startTransaction();
    await authorize('erp_late', null, late.manager);
    await store.append(serviceStreamId('acme', 'erp'), 'any', [edited('erp')], { manager: edit.manager });
    await edit.commitTransaction();
    // The saga runs while the late authorization is still uncommitted, then again after it committed.
    await new CatchUpSubscription(store, new RevokeOnServiceEditSaga(store)).catchUp();
    await late.commitTransaction();
    await Promise.all([edit.release(), late.release()]);
    await dataSource.query(`UPDATE subscription_checkpoints SET transaction_id = '0', position = 0`);
    await new CatchUpSubscription(store, new RevokeOnServiceEditSaga(store)).catchUp();

    const [positions] = await dataSource.query(
      `SELECT bool_and(a.global_position < e.global_position) AS lower_position FROM events a, events e
        WHERE a.stream_id = 'connection-acme.erp_late' AND a.type = 'ConnectionAuthorized' AND e.stream_id = $1 AND e.type = 'ServiceEdited'`,
      [serviceStreamId('acme', 'erp')],
    );
    expect(positions.lower_position).toBe(true);
    const { revoked, expected } = await revokedAndExpected('erp');
    expect(revoked).toEqual(expected);
    expect(revoked.map((k) => k.split('/')[0])).toEqual(['connection-acme.erp_early']);
  });

  it('revokes an org’s connections of a predefined service when the org’s own OAuth app changes, and no other org’s', async () => {
    const predefined = (orgId: string, linkName: string): ConnectionEvent => ({
      type: 'ConnectionCreated',
      data: { orgId, linkName, name: linkName, service: { linkName: 'github', type: 'predefined', authType: 'oauth2' }, scopes: [], parameters: {}, useLoginUserCredentials: false, internal: false, owner: 'alice', createdAt: at },
    });
    const authorizedIn = (orgId: string, linkName: string, ref: string): ConnectionEvent => ({
      type: 'ConnectionAuthorized',
      data: { orgId, linkName, userId: null, credentialRef: ref, replacesCredentialRef: null, grantedScopes: null, expiresAt: null, authorizedBy: 'alice', authorizedAt: at },
    });
    await store.append(connectionStreamId('acme', 'gh'), 0, [predefined('acme', 'gh'), authorizedIn('acme', 'gh', '00000000-0000-4000-8000-0000000000a1')]);
    await store.append(connectionStreamId('globex', 'gh'), 0, [predefined('globex', 'gh'), authorizedIn('globex', 'gh', '00000000-0000-4000-8000-0000000000a2')]);
    const set: ServiceClientEvent = { type: 'ServiceClientSet', data: { orgId: 'acme', linkName: 'github', clientId: 'Iv1.org', clientSecretRef: '00000000-0000-4000-8000-0000000000a3', setBy: 'alice', setAt: at } };
    await store.append(serviceClientStreamId('acme', 'github'), 0, [set]);
    await new CatchUpSubscription(store, new RevokeOnServiceEditSaga(store)).catchUp();
    const revoked = await dataSource.query(`SELECT stream_id, data->>'reason' AS reason FROM events WHERE type = 'ConnectionRevoked' AND stream_id LIKE '%.gh'`);
    expect(revoked).toEqual([{ stream_id: 'connection-acme.gh', reason: 'service_edited' }]);
  });
});
