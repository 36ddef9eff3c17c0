import type { ConnectionCreated, ConnectionEvent, CreateConnectionInput } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { connectionDecider, credentialRefs, statusFor, type ServiceFacts } from './connection.decider';

const spec = deciderSpec(connectionDecider);
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-24T10:00:00.000Z';

const oauthService: ServiceFacts = { linkName: 'crm', type: 'custom', authType: 'oauth2', scopes: ['read', 'write', 'admin'], parameters: [] };
const shopService: ServiceFacts = { linkName: 'shopify', type: 'predefined', authType: 'oauth2', scopes: ['read_orders'], parameters: [{ name: 'shop', pattern: '^[a-z0-9][a-z0-9-]*$' }] };
const keyService: ServiceFacts = { linkName: 'keys', type: 'custom', authType: 'api_key', scopes: [], parameters: [] };

const input = (overrides: Partial<CreateConnectionInput> = {}): CreateConnectionInput & { linkName: string } => ({
  name: 'My CRM',
  linkName: 'my_crm',
  service: 'crm',
  scopes: ['read'],
  useLoginUserCredentials: false,
  internal: false,
  ...overrides,
});
const create = (i: CreateConnectionInput & { linkName: string }, service = oauthService) => ({ type: 'CreateConnection' as const, data: { orgId: 'acme', owner: 'alice', input: i, service, now } });
const created = (overrides: Partial<ConnectionCreated['data']> = {}): ConnectionEvent => ({
  type: 'ConnectionCreated',
  data: {
    orgId: 'acme',
    linkName: 'my_crm',
    name: 'My CRM',
    service: { linkName: 'crm', type: 'custom', authType: 'oauth2' },
    scopes: ['read'],
    parameters: {},
    useLoginUserCredentials: false,
    internal: false,
    owner: 'alice',
    createdAt: now,
    ...overrides,
  },
});
const authorized = (userId: string | null, ref: string, replaces: string | null = null, by = userId ?? 'alice'): ConnectionEvent => ({
  type: 'ConnectionAuthorized',
  data: { orgId: 'acme', linkName: 'my_crm', userId, credentialRef: ref, replacesCredentialRef: replaces, grantedScopes: null, expiresAt: null, authorizedBy: by, authorizedAt: now },
});
const authorize = (userId: string, ref: string) => ({
  type: 'AuthorizeConnection' as const,
  data: { orgId: 'acme', userId, linkName: 'my_crm', credentialRef: ref, grantedScopes: null, expiresAt: null, now },
});
const revoke = (userId: string, reason: 'user' | 'service_edited' | 'refresh_failed' = 'user') => ({ type: 'RevokeConnection' as const, data: { orgId: 'acme', userId, linkName: 'my_crm', reason, now: later } });
const edit = (changes: object, userId = 'alice') => ({ type: 'EditConnection' as const, data: { orgId: 'acme', userId, linkName: 'my_crm', changes, serviceScopes: oauthService.scopes, now: later } });
const remove = (userId = 'alice') => ({ type: 'DeleteConnection' as const, data: { orgId: 'acme', userId, linkName: 'my_crm', now: later } });

describe('connection decider: create', () => {
  it('creates a pending connection with the chosen scopes', () => {
    spec.given([]).when(create(input())).then([created()]);
    expect(statusFor(connectionDecider.evolve(connectionDecider.initialState(), created()), 'alice')).toBe('pending');
  });

  it('takes all of an OAuth 2 service’s scopes when none are chosen, and none for other auth types', () => {
    spec.given([]).when(create(input({ scopes: undefined }))).then([created({ scopes: ['read', 'write', 'admin'] })]);
    spec
      .given([])
      .when(create(input({ scopes: undefined, service: 'keys' }), keyService))
      .then([created({ scopes: [], service: { linkName: 'keys', type: 'custom', authType: 'api_key' } })]);
  });

  it('refuses a link name taken in the org, scopes the service does not offer, and scopes on a non-OAuth service', () => {
    spec.given([created()]).when(create(input())).thenFails({ code: 'link_name_taken' });
    spec.given([]).when(create(input({ scopes: ['read', 'delete'] }))).thenFails({ code: 'validation_failed', message: /does not offer delete/ });
    spec.given([]).when(create(input({ scopes: ['read'] }), keyService)).thenFails({ code: 'validation_failed', message: /OAuth 2 services only/ });
  });

  it('requires the service’s connection parameters, matching their pattern, and nothing else', () => {
    const shop = (parameters?: Record<string, string>) => create(input({ service: 'shopify', scopes: ['read_orders'], parameters }), shopService);
    spec.given([]).when(shop()).thenFails({ code: 'validation_failed', message: /parameters.shop: is required/ });
    spec.given([]).when(shop({ shop: 'evil.example.com/x' })).thenFails({ code: 'validation_failed', message: /parameters.shop: must match/ });
    spec.given([]).when(shop({ shop: 'acme', region: 'eu' })).thenFails({ code: 'validation_failed', message: /parameters.region: the service declares no such parameter/ });
    spec
      .given([])
      .when(shop({ shop: 'acme-store' }))
      .then([created({ service: { linkName: 'shopify', type: 'predefined', authType: 'oauth2' }, scopes: ['read_orders'], parameters: { shop: 'acme-store' } })]);
  });
});

describe('connection decider: authorize and revoke', () => {
  it('connects on authorization, revokes, and connects again on a new authorization', () => {
    spec.given([created()]).when(authorize('alice', 'ref-1')).then([authorized(null, 'ref-1')]);
    const revokedEvent: ConnectionEvent = { type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'my_crm', userId: null, reason: 'user', credentialRef: 'ref-1', revokedBy: 'alice', revokedAt: later } };
    spec.given([created(), authorized(null, 'ref-1')]).when(revoke('alice')).then([revokedEvent]);
    let state = [created(), authorized(null, 'ref-1'), revokedEvent].reduce(connectionDecider.evolve, connectionDecider.initialState());
    expect(statusFor(state, 'alice')).toBe('revoked');
    spec.given([created(), authorized(null, 'ref-1'), revokedEvent]).when(authorize('alice', 'ref-2')).then([authorized(null, 'ref-2', 'ref-1')]);
    state = connectionDecider.evolve(state, authorized(null, 'ref-2', 'ref-1'));
    expect(statusFor(state, 'alice')).toBe('connected');
  });

  it('records the values the provider gave with an authorization, and leaves out a parameter the provider will give', () => {
    const quickbooks: ServiceFacts = { linkName: 'quickbooks', type: 'predefined', authType: 'oauth2', scopes: [], parameters: [{ name: 'realmId', pattern: '^[0-9]{1,20}$', optional: true }] };
    const withoutRealm = connectionDecider.decide(create(input({ service: 'quickbooks', scopes: [] }), quickbooks), connectionDecider.initialState());
    expect(withoutRealm[0].data).toMatchObject({ parameters: {} });
    spec.given([]).when(create(input({ service: 'quickbooks', scopes: [], parameters: { realmId: 'x/../y' } }), quickbooks)).thenFails({ code: 'validation_failed' });
    spec
      .given([created()])
      .when({ ...authorize('alice', 'ref-1'), data: { ...authorize('alice', 'ref-1').data, parameters: { realmId: '9130357766900456' } } })
      .then([{ ...authorized(null, 'ref-1'), data: { ...authorized(null, 'ref-1').data, parameters: { realmId: '9130357766900456' } } } as ConnectionEvent]);
    // The credential keeps them, so whatever calls with it (the verification schedule too) fills its templates.
    const withRealm = { ...authorized(null, 'ref-1'), data: { ...authorized(null, 'ref-1').data, parameters: { realmId: '9130357766900456' } } } as ConnectionEvent;
    const state = [created(), withRealm].reduce(connectionDecider.evolve, connectionDecider.initialState());
    expect(state.status === 'active' && state.credentials['*'].parameters).toEqual({ realmId: '9130357766900456' });
  });

  it('lets only the owner authorize or revoke a connection that does not use each user’s credentials', () => {
    spec.given([created()]).when(authorize('bob', 'ref-1')).thenFails({ code: 'not_owner' });
    spec.given([created(), authorized(null, 'ref-1')]).when(revoke('bob')).thenFails({ code: 'not_owner' });
  });

  it('records nothing when revoking what is not connected', () => {
    spec.given([created()]).when(revoke('alice')).then([]);
  });

  it('with login-user credentials, keeps one credential per user and never uses the owner’s for another user', () => {
    const uluc = created({ useLoginUserCredentials: true });
    spec.given([uluc]).when(authorize('bob', 'ref-bob')).then([authorized('bob', 'ref-bob')]);
    const state = [uluc, authorized('alice', 'ref-alice')].reduce(connectionDecider.evolve, connectionDecider.initialState());
    expect(statusFor(state, 'alice')).toBe('connected');
    expect(statusFor(state, 'bob')).toBe('pending');
    spec
      .given([uluc, authorized('alice', 'ref-alice'), authorized('bob', 'ref-bob')])
      .when(revoke('bob'))
      .then([{ type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'my_crm', userId: 'bob', reason: 'user', credentialRef: 'ref-bob', revokedBy: 'bob', revokedAt: later } }]);
  });

  it('revokes every connected credential when its service is edited', () => {
    const uluc = created({ useLoginUserCredentials: true });
    const revokedBy = (userId: string, ref: string): ConnectionEvent => ({
      type: 'ConnectionRevoked',
      data: { orgId: 'acme', linkName: 'my_crm', userId, reason: 'service_edited', credentialRef: ref, revokedBy: 'plugboard', revokedAt: later },
    });
    spec.given([uluc, authorized('alice', 'ref-a'), authorized('bob', 'ref-b')]).when(revoke('plugboard', 'service_edited')).then([revokedBy('alice', 'ref-a'), revokedBy('bob', 'ref-b')]);
    spec.given([uluc, authorized('alice', 'ref-a'), authorized('bob', 'ref-b'), revokedBy('alice', 'ref-a'), revokedBy('bob', 'ref-b')]).when(revoke('plugboard', 'service_edited')).then([]);
  });

  it('a service edit revokes only the credentials in force before it, never one authorized since', () => {
    const uluc = created({ useLoginUserCredentials: true });
    const editRevokes = (credentialRefs: string[]) => ({
      type: 'RevokeConnection' as const,
      data: { orgId: 'acme', userId: 'plugboard', linkName: 'my_crm', reason: 'service_edited' as const, credentialRefs, now: later },
    });
    const revokedBy = (userId: string | null, ref: string): ConnectionEvent => ({
      type: 'ConnectionRevoked',
      data: { orgId: 'acme', linkName: 'my_crm', userId, reason: 'service_edited', credentialRef: ref, revokedBy: 'plugboard', revokedAt: later },
    });
    // Before the edit: alice (ref-a) and bob (ref-b). Since: carol for the first time, and alice again (ref-a2).
    spec
      .given([uluc, authorized('alice', 'ref-a'), authorized('bob', 'ref-b'), authorized('carol', 'ref-c'), authorized('alice', 'ref-a2', 'ref-a')])
      .when(editRevokes(['ref-a', 'ref-b']))
      .then([revokedBy('bob', 'ref-b')]);
    spec.given([created(), authorized(null, 'ref-2', 'ref-1')]).when(editRevokes(['ref-1'])).then([]);
    spec.given([created(), authorized(null, 'ref-1')]).when(editRevokes(['ref-1'])).then([revokedBy(null, 'ref-1')]);
    spec.given([created(), authorized(null, 'ref-1')]).when(editRevokes([])).then([]);
  });

  it('a failed verification revokes only the credential it names', () => {
    const uluc = created({ useLoginUserCredentials: true });
    const failed = (credentialKey?: string) => ({ type: 'RevokeConnection' as const, data: { orgId: 'acme', userId: 'plugboard', linkName: 'my_crm', reason: 'verification_failed' as const, credentialKey, now: later } });
    spec
      .given([uluc, authorized('alice', 'ref-a'), authorized('bob', 'ref-b')])
      .when(failed('bob'))
      .then([{ type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'my_crm', userId: 'bob', reason: 'verification_failed', credentialRef: 'ref-b', revokedBy: 'plugboard', revokedAt: later } }]);
    spec.given([uluc, authorized('alice', 'ref-a')]).when(failed()).then([]);
  });
});

describe('connection decider: edit and delete', () => {
  it('edits the name and the scopes; a scope change on OAuth asks for re-authorization', () => {
    spec
      .given([created()])
      .when(edit({ name: 'CRM', scopes: ['read', 'write'] }))
      .then([{ type: 'ConnectionEdited', data: { orgId: 'acme', linkName: 'my_crm', changedFields: ['name', 'scopes'], changes: { name: 'CRM', scopes: ['read', 'write'] }, reauthorizationRequired: true, editedBy: 'alice', editedAt: later } }]);
    spec.given([created()]).when(edit({ name: 'My CRM', scopes: ['read'] })).then([]);
  });

  it('refuses other fields, unknown scopes, other users and internal connections', () => {
    spec.given([created()]).when(edit({ linkName: 'other' })).thenFails({ code: 'field_not_editable', message: /^linkName cannot be changed/ });
    spec.given([created()]).when(edit({ useLoginUserCredentials: true })).thenFails({ code: 'field_not_editable' });
    spec.given([created()]).when(edit({ scopes: ['root'] })).thenFails({ code: 'validation_failed', message: /does not offer root/ });
    spec.given([created()]).when(edit({ name: 'Mine' }, 'bob')).thenFails({ code: 'not_owner', message: /revoke your own/ });
    spec.given([created({ internal: true })]).when(edit({ name: 'X' })).thenFails({ code: 'connection_internal' });
  });

  it('deletes for the owner, never an internal connection, and knows which credentials to erase', () => {
    spec.given([created()]).when(remove()).then([{ type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'my_crm', service: 'crm', credentialRefs: [], deletedBy: 'alice', deletedAt: later } }]);
    spec
      .given([created(), authorized(null, 'ref-1')])
      .when(remove())
      .then([{ type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'my_crm', service: 'crm', credentialRefs: ['ref-1'], deletedBy: 'alice', deletedAt: later } }]);
    spec.given([created()]).when(remove('bob')).thenFails({ code: 'not_owner' });
    spec.given([created({ internal: true })]).when(remove()).thenFails({ code: 'connection_internal' });
    spec.given([created(), { type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'my_crm', service: 'crm', credentialRefs: [], deletedBy: 'alice', deletedAt: now } }]).when(remove()).thenFails({ code: 'connection_not_found' });
    const state = [created({ useLoginUserCredentials: true }), authorized('alice', 'ref-a'), authorized('bob', 'ref-b')].reduce(connectionDecider.evolve, connectionDecider.initialState());
    expect(credentialRefs(state).sort()).toEqual(['ref-a', 'ref-b']);
  });

  it('lets internal connections be revoked', () => {
    spec.given([created({ internal: true }), authorized(null, 'ref-1')]).when(revoke('alice')).then([
      { type: 'ConnectionRevoked', data: { orgId: 'acme', linkName: 'my_crm', userId: null, reason: 'user', credentialRef: 'ref-1', revokedBy: 'alice', revokedAt: later } },
    ]);
  });
});

describe('connection decider: health', () => {
  const failure = { status: 401, host: 'api.example.com', message: 'api.example.com answered 401 Unauthorized', at: later };
  const health = (consecutiveFailures: number, lastError: typeof failure | null = failure) => ({
    type: 'RecordConnectionHealth' as const,
    data: { orgId: 'acme', linkName: 'my_crm', consecutiveFailures, lastError, now: later },
  });
  const degraded: ConnectionEvent = { type: 'ConnectionDegraded', data: { orgId: 'acme', linkName: 'my_crm', consecutiveFailures: 3, lastError: failure, degradedAt: later } };
  const recovered: ConnectionEvent = { type: 'ConnectionRecovered', data: { orgId: 'acme', linkName: 'my_crm', recoveredAt: later } };

  it('records only the changes: degraded at CONNECTION_DEGRADED_AFTER refusals in a row, recovered at the next success', () => {
    spec.given([created(), authorized(null, 'ref-1')]).when(health(2)).then([]);
    spec.given([created(), authorized(null, 'ref-1')]).when(health(3)).then([degraded]);
    spec.given([created(), authorized(null, 'ref-1'), degraded]).when(health(7)).then([]);
    spec.given([created(), authorized(null, 'ref-1'), degraded]).when(health(0)).then([recovered]);
    spec.given([created(), authorized(null, 'ref-1'), degraded, recovered]).when(health(0)).then([]);
    spec.given([created(), authorized(null, 'ref-1'), degraded, recovered]).when(health(3)).then([degraded]);
  });

  it('records nothing for a connection that is gone', () => {
    spec.given([]).when(health(5)).then([]);
    const deleted: ConnectionEvent = { type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'my_crm', service: 'crm', credentialRefs: [], deletedBy: 'alice', deletedAt: later } };
    spec.given([created(), deleted]).when(health(5)).then([]);
  });
});
