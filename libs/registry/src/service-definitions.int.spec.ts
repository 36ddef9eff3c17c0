import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CreateServiceInputSchema, serviceClientStreamId, serviceStreamId } from '@plugboard/contracts';
import { EventStore, eventStoreMigrations, handleCommand } from '@plugboard/event-store';
import { serviceTargetOf } from '@plugboard/outbound';
import { serviceClientDecider, serviceDecider } from '@plugboard/registry-domain';
import { createTestDatabase, testMasterKey, type TestDatabase } from '@plugboard/testing';
import { Keyring, Vault, vaultMigrations } from '@plugboard/vault';
import { ServiceDefinitions } from './service-definitions';

describe('ServiceDefinitions: a connection’s service as the apps need it, predefined or custom', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  let vault: Vault;
  const ORG = 'acme';

  /** A custom service, recorded as the registry records it: the event, and its secret in the vault. */
  async function createService(input: unknown, secret: string | null): Promise<void> {
    const parsed = CreateServiceInputSchema.parse(input);
    const secretRef = secret ? randomUUID() : null;
    await handleCommand(store, serviceStreamId(ORG, parsed.linkName), serviceDecider, { type: 'CreateService', data: { orgId: ORG, owner: 'alice', input: parsed, secretRef, predefinedName: null, now: new Date().toISOString() } }, {
      alsoWrite: secret && secretRef ? (manager) => vault.put(manager, { id: secretRef, orgId: ORG, purpose: 'test', value: secret }) : undefined,
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await new DataSource({ type: 'postgres', url: db.url, migrations: [...eventStoreMigrations, ...vaultMigrations] }).initialize();
    await dataSource.runMigrations();
    store = new EventStore(dataSource);
    vault = new Vault(Keyring.parse(testMasterKey()));
    await createService(
      {
        name: 'CRM',
        linkName: 'crm',
        authType: 'oauth2',
        baseUrl: 'https://api.crm.example',
        oauth2: { grantType: 'authorization_code', clientId: 'c-1', clientSecret: 'cs-crm', authorizeUrl: 'https://id.crm.example/auth', accessTokenUrl: 'https://id.crm.example/token', revokeUrl: 'https://id.crm.example/revoke', paramType: 'header', scopes: [{ name: 'read', displayName: 'Read' }] },
      },
      'cs-crm',
    );
    await createService(
      {
        name: 'Legacy',
        linkName: 'legacy',
        authType: 'oauth1',
        baseUrl: 'https://api.legacy.example',
        oauth1: { consumerKey: 'ck', consumerSecret: 'cs-legacy', requestTokenUrl: 'https://api.legacy.example/rt', authorizeUrl: 'https://api.legacy.example/auth', accessTokenUrl: 'https://api.legacy.example/at', paramType: 'query' },
      },
      'cs-legacy',
    );
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('reads a custom OAuth 2 service from its stream and its client secret from the vault', async () => {
    const settings = await new ServiceDefinitions(store, vault, {}).oauth2(ORG, { service: 'crm', serviceType: 'custom', parameters: {} });
    expect(settings).toMatchObject({ clientId: 'c-1', clientSecret: 'cs-crm', clientAuth: 'client_secret_basic', tokenUrl: 'https://id.crm.example/token', revokeUrl: 'https://id.crm.example/revoke', refreshUrl: null, pkce: true });
  });

  it('gives a custom OAuth 1.0a service its consumer secret, so calls through it can be signed', async () => {
    const source = await new ServiceDefinitions(store, vault, {}).source(ORG, { service: 'legacy', serviceType: 'custom', parameters: {} });
    expect(serviceTargetOf(source)).toEqual({
      baseUrl: 'https://api.legacy.example',
      allowedHosts: ['api.legacy.example'],
      injection: { kind: 'oauth1', paramType: 'query', consumerKey: 'ck', consumerSecret: 'cs-legacy', signatureMethod: 'HMAC-SHA1' },
    });
  });

  it('takes a predefined service’s client from the deployment, and says so when there is none', async () => {
    const ref = { service: 'zoho_com', serviceType: 'predefined' as const, parameters: {} };
    await expect(new ServiceDefinitions(store, vault, {}).oauth2(ORG, ref)).rejects.toMatchObject({ code: 'service_not_configured', message: expect.stringMatching(/PUT \/v1\/services\/zoho_com\/client.*PLUGBOARD_PREDEFINED_CLIENTS/) });
    const settings = await new ServiceDefinitions(store, vault, { zoho_com: { clientId: 'z-1', clientSecret: 'z-secret' } }).oauth2(ORG, ref);
    expect(settings).toMatchObject({ clientId: 'z-1', clientSecret: 'z-secret', tokenUrl: 'https://accounts.zoho.com/oauth/v2/token' });
    const trello = await new ServiceDefinitions(store, vault, {}).source(ORG, { service: 'trello', serviceType: 'predefined', parameters: {} });
    expect(serviceTargetOf(trello)).toBeNull();
  });

  it('prefers the org’s own OAuth app for a predefined service to the deployment’s, in that org only', async () => {
    const ref = { service: 'zoho_com', serviceType: 'predefined' as const, parameters: {} };
    const auth = new ServiceDefinitions(store, vault, { zoho_com: { clientId: 'deployment-id', clientSecret: 'deployment-secret' }, trello: { clientId: 'tk', clientSecret: 'ts' } });
    const secretRef = randomUUID();
    await handleCommand(store, serviceClientStreamId(ORG, 'zoho_com'), serviceClientDecider, {
      type: 'SetServiceClient',
      data: { orgId: ORG, userId: 'alice', linkName: 'zoho_com', service: { name: 'Zoho', authType: 'oauth2' }, clientId: 'org-id', secretRef, now: new Date().toISOString() },
    }, { alsoWrite: (manager) => vault.put(manager, { id: secretRef, orgId: ORG, purpose: 'test', value: 'org-secret' }) });
    expect(await auth.oauth2(ORG, ref)).toMatchObject({ clientId: 'org-id', clientSecret: 'org-secret' });
    expect(await auth.oauth2('globex', ref)).toMatchObject({ clientId: 'deployment-id', clientSecret: 'deployment-secret' });
    await handleCommand(store, serviceClientStreamId(ORG, 'zoho_com'), serviceClientDecider, { type: 'RemoveServiceClient', data: { orgId: ORG, userId: 'alice', linkName: 'zoho_com', now: new Date().toISOString() } });
    expect(await auth.oauth2(ORG, ref)).toMatchObject({ clientId: 'deployment-id' });
  });

  it('gives a custom and a predefined service in one shape, each with its OAuth client', async () => {
    const definitions = new ServiceDefinitions(store, vault, { zoho_com: { clientId: 'z-1', clientSecret: 'z-secret' } });
    const custom = await definitions.get(ORG, { service: 'crm', serviceType: 'custom', parameters: {} });
    expect(custom).toMatchObject({ linkName: 'crm', name: 'CRM', type: 'custom', authType: 'oauth2', entry: null, client: { clientId: 'c-1', clientSecret: 'cs-crm' }, oauth2: { tokenUrl: 'https://id.crm.example/token' }, oauth1: null });
    const predefined = await definitions.get(ORG, { service: 'zoho_com', serviceType: 'predefined', parameters: {} });
    expect(predefined).toMatchObject({ linkName: 'zoho_com', type: 'predefined', authType: 'oauth2', client: { clientId: 'z-1' }, oauth2: { tokenUrl: 'https://accounts.zoho.com/oauth/v2/token' } });
    expect(predefined.entry?.linkName).toBe('zoho_com');
    const unconfigured = await new ServiceDefinitions(store, vault, {}).get(ORG, { service: 'zoho_com', serviceType: 'predefined', parameters: {} });
    expect(unconfigured.client).toBeNull();
  });

  it('finds a service by its link name alone: the org’s custom one, else the catalog’s', async () => {
    const definitions = new ServiceDefinitions(store, vault, {});
    expect(await definitions.find(ORG, 'crm')).toMatchObject({ type: 'custom', authType: 'oauth2', scopes: [{ name: 'read', displayName: 'Read' }], apiKeyParams: [], entry: null });
    const shopify = await definitions.find(ORG, 'shopify');
    expect(shopify).toMatchObject({ type: 'predefined', linkName: 'shopify' });
    expect(shopify.entry?.connectionParameters?.map((p) => p.name)).toContain('shop');
    await expect(definitions.find('globex', 'crm')).rejects.toMatchObject({ code: 'service_not_found' });
  });

  it('refuses a service that does not exist, or is of another kind', async () => {
    const auth = new ServiceDefinitions(store, vault, {});
    await expect(auth.source(ORG, { service: 'nope', serviceType: 'custom', parameters: {} })).rejects.toMatchObject({ code: 'service_not_found' });
    await expect(auth.oauth2('globex', { service: 'crm', serviceType: 'custom', parameters: {} })).rejects.toMatchObject({ code: 'service_not_found' });
    await expect(auth.oauth1(ORG, { service: 'crm', serviceType: 'custom', parameters: {} })).rejects.toMatchObject({ code: 'service_not_found' });
  });
});
