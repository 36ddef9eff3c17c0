import { DataSource } from 'typeorm';
import { connectionStreamId, serviceStreamId, type ConnectionEvent, type ServiceCreated } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, eventStoreMigrations, projectionHandler, rebuildProjection } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { ServiceRecord } from '../read-models/service.record';
import { toServiceView } from '../read-models/service.view';
import { registryMigrations } from '../registry.module';
import { ServiceConnectionCountProjection } from './service-connection-count.projection';
import { ServiceListProjection } from './service-list.projection';

function created(orgId: string, linkName: string, extra: Partial<ServiceCreated['data']> = {}): ServiceCreated {
  return {
    type: 'ServiceCreated',
    data: { orgId, linkName, name: `Service ${linkName}`, authType: 'basic', baseUrl: null, allowedHosts: [], owner: 'alice', createdAt: '2026-11-23T10:00:00.000Z', ...extra },
  };
}

describe('services projection (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  const projection = new ServiceListProjection();

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, [...eventStoreMigrations, ...registryMigrations]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, entities: [ServiceRecord] })).initialize();
    store = new EventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('fills the read model from ServiceCreated, per org, with secrets only as references and masks', async () => {
    await store.append(serviceStreamId('acme', 'crm'), 0, [created('acme', 'crm', { baseUrl: 'https://crm.example', allowedHosts: ['crm.example'] })]);
    await store.append(serviceStreamId('globex', 'crm'), 0, [created('globex', 'crm', { owner: 'bob' })]);
    await store.append(serviceStreamId('acme', 'oauth'), 0, [
      created('acme', 'oauth', {
        authType: 'oauth2',
        oauth2: {
          grantType: 'client_credentials',
          clientId: 'c1',
          authorizeUrl: null,
          accessTokenUrl: 'https://auth.example/token',
          refreshTokenUrl: null,
          paramType: 'header',
          scopes: [],
          scopeDelimiter: 'comma',
          clientSecretRef: '5f0c2a52-8a43-4ef1-9a4c-5b7a2f3c1d10',
        },
      }),
    ]);
    await new CatchUpSubscription(store, projectionHandler(projection)).catchUp();

    const repo = dataSource.getRepository(ServiceRecord);
    expect(await repo.countBy({ orgId: 'acme' })).toBe(2);
    expect((await repo.findOneByOrFail({ orgId: 'globex', linkName: 'crm' })).owner).toBe('bob');
    const view = toServiceView(await repo.findOneByOrFail({ orgId: 'acme', linkName: 'oauth' }));
    expect(view.oauth2).toMatchObject({ clientId: 'c1', clientSecret: '********' });
    expect(JSON.stringify(view)).not.toContain('clientSecretRef');
  });

  it('folds edits into the row and removes deleted services', async () => {
    await store.append(serviceStreamId('acme', 'crm'), 1, [
      { type: 'ServiceEdited', data: { orgId: 'acme', linkName: 'crm', changedFields: ['name', 'allowedHosts'], changes: { name: 'CRM EU', allowedHosts: ['eu.crm.example'] }, editedBy: 'alice', editedAt: '2026-11-24T10:00:00.000Z' } },
    ]);
    await store.append(serviceStreamId('globex', 'crm'), 1, [{ type: 'ServiceDeleted', data: { orgId: 'globex', linkName: 'crm', deletedBy: 'bob', deletedAt: '2026-11-24T10:00:00.000Z' } }]);
    await new CatchUpSubscription(store, projectionHandler(projection)).catchUp();
    const repo = dataSource.getRepository(ServiceRecord);
    expect(await repo.findOneByOrFail({ orgId: 'acme', linkName: 'crm' })).toMatchObject({ name: 'CRM EU', allowedHosts: ['eu.crm.example'], baseUrl: 'https://crm.example', revision: 2 });
    expect(await repo.findOneBy({ orgId: 'globex', linkName: 'crm' })).toBeNull();
  });

  it('counts the connections of each custom service, with the row, from their creation and deletion', async () => {
    const counts = new ServiceConnectionCountProjection();
    const connection = (linkName: string, service: { linkName: string; type: 'custom' | 'predefined' }): ConnectionEvent => ({
      type: 'ConnectionCreated',
      data: { orgId: 'acme', linkName, name: linkName, service: { ...service, authType: 'basic' }, scopes: [], parameters: {}, useLoginUserCredentials: false, internal: false, owner: 'alice', createdAt: '2026-11-24T10:00:00.000Z' },
    });
    await store.append(connectionStreamId('acme', 'c1'), 0, [connection('c1', { linkName: 'crm', type: 'custom' })]);
    await store.append(connectionStreamId('acme', 'c2'), 0, [connection('c2', { linkName: 'crm', type: 'custom' })]);
    await store.append(connectionStreamId('acme', 'c3'), 0, [connection('c3', { linkName: 'crm', type: 'predefined' })]);
    await store.append(connectionStreamId('acme', 'c1'), 1, [{ type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'c1', service: 'crm', credentialRefs: [], deletedBy: 'alice', deletedAt: '2026-11-24T11:00:00.000Z' } }]);
    await new CatchUpSubscription(store, projectionHandler(counts)).catchUp();
    const repo = dataSource.getRepository(ServiceRecord);
    expect((await repo.findOneByOrFail({ orgId: 'acme', linkName: 'crm' })).connectionCount).toBe(1);
    expect((await repo.findOneByOrFail({ orgId: 'acme', linkName: 'oauth' })).connectionCount).toBe(0);
    await rebuildProjection(store, counts);
    expect((await repo.findOneByOrFail({ orgId: 'acme', linkName: 'crm' })).connectionCount).toBe(1);
  });

  it('rebuilds from position 0 into the same rows', async () => {
    const repo = dataSource.getRepository(ServiceRecord);
    const before = await repo.find({ order: { orgId: 'ASC', linkName: 'ASC' } });
    await rebuildProjection(store, projection);
    expect(await repo.find({ order: { orgId: 'ASC', linkName: 'ASC' } })).toEqual(before);
  });
});
