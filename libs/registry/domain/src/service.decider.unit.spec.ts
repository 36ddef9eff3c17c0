import type { CreateServiceInput, EditServiceInput, ServiceCreated, ServiceEvent } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { serviceDecider, type CreateService, type DeleteService, type EditService } from './service.decider';

const spec = deciderSpec(serviceDecider);
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-24T10:00:00.000Z';

function createCommand(input: CreateServiceInput, secretRef: string | null = null, predefinedName: string | null = null): CreateService {
  return { type: 'CreateService', data: { orgId: 'acme', owner: 'alice', input, secretRef, predefinedName, now } };
}
function editCommand(changes: EditServiceInput, { userId = 'alice', secretRef = null as string | null } = {}): EditService {
  return { type: 'EditService', data: { orgId: 'acme', userId, linkName: 'svc', changes, secretRef, now: later } };
}
function deleteCommand(userId = 'alice', connectionCount = 0): DeleteService {
  return { type: 'DeleteService', data: { orgId: 'acme', userId, linkName: 'svc', connectionCount, now: later } };
}
function edited(changedFields: string[], changes: object): ServiceEvent {
  return { type: 'ServiceEdited', data: { orgId: 'acme', linkName: 'svc', changedFields, changes, editedBy: 'alice', editedAt: later } };
}

const base = { orgId: 'acme', linkName: 'svc', name: 'Svc', baseUrl: 'https://api.svc.example', allowedHosts: ['api.svc.example'], owner: 'alice', createdAt: now };
const apiKeyService: ServiceCreated = {
  type: 'ServiceCreated',
  data: { ...base, authType: 'api_key', apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] } },
};
const basicService: ServiceCreated = { type: 'ServiceCreated', data: { ...base, authType: 'basic' } };
const oauth1Service: ServiceCreated = {
  type: 'ServiceCreated',
  data: {
    ...base,
    authType: 'oauth1',
    oauth1: {
      consumerKey: 'ck',
      requestTokenUrl: 'https://svc.example/request',
      authorizeUrl: 'https://svc.example/authorize',
      accessTokenUrl: 'https://svc.example/access',
      paramType: 'header',
      consumerSecretRef: 'ref-1',
    },
  },
};
const oauth2Service: ServiceCreated = {
  type: 'ServiceCreated',
  data: {
    ...base,
    authType: 'oauth2',
    oauth2: {
      grantType: 'authorization_code',
      clientId: 'client-1',
      authorizeUrl: 'https://svc.example/authorize',
      accessTokenUrl: 'https://svc.example/token',
      refreshTokenUrl: null,
      revokeUrl: null,
      paramType: 'header',
      scopes: [{ name: 'read', displayName: 'Read' }],
      scopeDelimiter: 'comma',
      clientSecretRef: 'ref-1',
    },
  },
};

describe('service decider: create', () => {
  const input: CreateServiceInput = { name: 'Svc', linkName: 'svc', authType: 'api_key', baseUrl: 'https://api.svc.example', apiKey: apiKeyService.data.apiKey! };

  it('creates an API key service owned by its creator, credentials allowed to its base URL host', () => {
    spec.given([]).when(createCommand(input)).then([apiKeyService]);
  });

  it('keeps explicitly allowed hosts instead of the base URL host', () => {
    spec
      .given([])
      .when(createCommand({ ...input, allowedHosts: ['api.svc.example', 'uploads.svc.example'] }))
      .then([{ ...apiKeyService, data: { ...apiKeyService.data, allowedHosts: ['api.svc.example', 'uploads.svc.example'] } }]);
  });

  it('refuses a link name already taken in the org', () => {
    spec.given([apiKeyService]).when(createCommand({ name: 'Other', linkName: 'svc', authType: 'basic' })).thenFails({ code: 'link_name_taken', message: /"svc"/ });
  });

  it('refuses the link name of a predefined service', () => {
    spec.given([]).when(createCommand({ name: 'Mine', linkName: 'github', authType: 'basic' }, null, 'GitHub')).thenFails({ code: 'link_name_taken', message: /predefined service GitHub/ });
  });

  it('lets a deleted service’s link name be used again', () => {
    const deleted: ServiceEvent = { type: 'ServiceDeleted', data: { orgId: 'acme', linkName: 'svc', deletedBy: 'alice', deletedAt: now } };
    spec.given([apiKeyService, deleted]).when(createCommand(input)).then([apiKeyService]);
  });

  it('records an OAuth 2 service with a reference to its client secret, never the secret', () => {
    const oauthInput: CreateServiceInput = {
      name: 'Svc',
      linkName: 'svc',
      authType: 'oauth2',
      baseUrl: 'https://api.svc.example',
      oauth2: {
        grantType: 'authorization_code',
        clientId: 'client-1',
        clientSecret: 'very-secret-value',
        authorizeUrl: 'https://svc.example/authorize',
        accessTokenUrl: 'https://svc.example/token',
        paramType: 'header',
        scopes: [{ name: 'read', displayName: 'Read' }],
        scopeDelimiter: 'comma',
      },
    };
    spec.given([]).when(createCommand(oauthInput, 'ref-1')).then([oauth2Service]);
    expect(JSON.stringify(serviceDecider.decide(createCommand(oauthInput, 'ref-1'), serviceDecider.initialState()))).not.toContain('very-secret-value');
  });

  it('records a verification call, which needs a base URL to be relative to', () => {
    const verify = { method: 'GET' as const, path: '/v1/me' };
    spec.given([]).when(createCommand({ ...input, verify })).then([{ ...apiKeyService, data: { ...apiKeyService.data, verify } }]);
    spec.given([]).when(createCommand({ name: 'Svc', linkName: 'svc', authType: 'basic', verify })).thenFails({ code: 'validation_failed', message: /verify: .* relative to baseUrl/ });
  });

  it('records an OAuth 2 revocation endpoint', () => {
    const block = oauth2Service.data.oauth2 as NonNullable<ServiceCreated['data']['oauth2']>;
    const { clientSecretRef: _ref, ...oauth2 } = block;
    const withRevoke = { ...oauth2, authorizeUrl: 'https://svc.example/authorize', refreshTokenUrl: undefined, revokeUrl: 'https://svc.example/revoke', clientSecret: 's3cret-value' };
    spec
      .given([])
      .when(createCommand({ name: 'Svc', linkName: 'svc', authType: 'oauth2', baseUrl: base.baseUrl, oauth2: withRevoke }, 'ref-1'))
      .then([{ ...oauth2Service, data: { ...oauth2Service.data, oauth2: { ...block, revokeUrl: 'https://svc.example/revoke' } } }]);
  });

  it('records an OAuth 1.0a service with a reference to its consumer secret, never the secret', () => {
    const { consumerSecretRef: _ref, ...oauth1 } = oauth1Service.data.oauth1!;
    spec
      .given([])
      .when(createCommand({ name: 'Svc', linkName: 'svc', authType: 'oauth1', baseUrl: base.baseUrl, oauth1: { ...oauth1, consumerSecret: 'consumer-secret' } }, 'ref-1'))
      .then([oauth1Service]);
  });
});

describe('service decider: edit (seed 004’s table)', () => {
  it('lets only the owner edit', () => {
    spec.given([basicService]).when(editCommand({ name: 'New' }, { userId: 'bob' })).thenFails({ code: 'not_owner', message: /owner of this service \(alice\)/ });
  });

  it('refuses to edit a service that does not exist or was deleted', () => {
    spec.given([]).when(editCommand({ name: 'New' })).thenFails({ code: 'service_not_found' });
    spec.given([basicService, { type: 'ServiceDeleted', data: { orgId: 'acme', linkName: 'svc', deletedBy: 'alice', deletedAt: now } }]).when(editCommand({ name: 'New' })).thenFails({ code: 'service_not_found' });
  });

  it('never changes the link name or the authentication type', () => {
    spec.given([basicService]).when(editCommand({ linkName: 'other' })).thenFails({ code: 'field_not_editable', message: /^linkName cannot be changed/ });
    spec.given([basicService]).when(editCommand({ authType: 'api_key' })).thenFails({ code: 'field_not_editable', message: /^authType cannot be changed/ });
  });

  it('Basic: edits the name, and nothing of another auth type', () => {
    spec.given([basicService]).when(editCommand({ name: 'Renamed' })).then([edited(['name'], { name: 'Renamed' })]);
    spec.given([basicService]).when(editCommand({ oauth2: { clientId: 'x' } })).thenFails({ code: 'field_not_editable', message: /^oauth2 cannot be changed: it does not apply .* basic/ });
  });

  it('records nothing when nothing changes', () => {
    spec.given([basicService]).when(editCommand({ name: 'Svc', linkName: 'svc', authType: 'basic' })).then([]);
  });

  it('API key: adds parameters and edits existing ones, including their param type', () => {
    const params = [
      { name: 'api_key', displayName: 'Key', paramType: 'query' as const },
      { name: 'account', displayName: 'Account', paramType: 'header' as const },
    ];
    spec.given([apiKeyService]).when(editCommand({ apiKey: { params } })).then([edited(['apiKey.params'], { apiKey: { params } })]);
  });

  it('API key: refuses to remove a parameter', () => {
    spec
      .given([apiKeyService])
      .when(editCommand({ apiKey: { params: [{ name: 'token', displayName: 'Token', paramType: 'header' }] } }))
      .thenFails({ code: 'field_not_editable', message: /apiKey.params cannot be changed: parameters can be added and edited but not removed \(missing: api_key\)/ });
  });

  it('OAuth 1.0a: edits name, param type, consumer key and secret, and the URLs', () => {
    spec
      .given([oauth1Service])
      .when(editCommand({ name: 'New', oauth1: { paramType: 'query', consumerKey: 'ck2', consumerSecret: 'new-secret', authorizeUrl: 'https://svc.example/auth2', accessTokenUrl: 'https://svc.example/access2', requestTokenUrl: 'https://svc.example/request2' } }, { secretRef: 'ref-2' }))
      .then([
        edited(['name', 'oauth1.paramType', 'oauth1.consumerKey', 'oauth1.authorizeUrl', 'oauth1.accessTokenUrl', 'oauth1.requestTokenUrl', 'oauth1.consumerSecret'], {
          name: 'New',
          oauth1: { paramType: 'query', consumerKey: 'ck2', authorizeUrl: 'https://svc.example/auth2', accessTokenUrl: 'https://svc.example/access2', requestTokenUrl: 'https://svc.example/request2', consumerSecretRef: 'ref-2' },
        }),
      ]);
  });

  it('OAuth 2: edits client id and secret, URLs and param type, never recording the secret', () => {
    spec
      .given([oauth2Service])
      .when(editCommand({ oauth2: { clientId: 'client-2', clientSecret: 'new-secret', refreshTokenUrl: 'https://svc.example/refresh', paramType: 'query' } }, { secretRef: 'ref-2' }))
      .then([
        edited(['oauth2.clientId', 'oauth2.refreshTokenUrl', 'oauth2.paramType', 'oauth2.clientSecret'], {
          oauth2: { clientId: 'client-2', refreshTokenUrl: 'https://svc.example/refresh', paramType: 'query', clientSecretRef: 'ref-2' },
        }),
      ]);
  });

  it('edits, and removes, the verification call; never leaves it without a base URL', () => {
    const verify = { method: 'GET' as const, path: '/v1/me' };
    spec.given([apiKeyService]).when(editCommand({ verify })).then([edited(['verify'], { verify })]);
    spec.given([{ ...apiKeyService, data: { ...apiKeyService.data, verify } }]).when(editCommand({ verify: null })).then([edited(['verify'], { verify: null })]);
    spec.given([{ ...apiKeyService, data: { ...apiKeyService.data, verify } }]).when(editCommand({ verify })).then([]);
    spec.given([{ ...apiKeyService, data: { ...apiKeyService.data, verify } }]).when(editCommand({ baseUrl: null })).thenFails({ code: 'validation_failed', message: /verify:/ });
  });

  it('OAuth 2: edits the revocation endpoint like the other URLs', () => {
    spec
      .given([oauth2Service])
      .when(editCommand({ oauth2: { revokeUrl: 'https://svc.example/revoke' } }))
      .then([edited(['oauth2.revokeUrl'], { oauth2: { revokeUrl: 'https://svc.example/revoke' } })]);
  });

  it('OAuth 2: records extra authorize and token parameters when given', () => {
    const block = oauth2Service.data.oauth2 as NonNullable<ServiceCreated['data']['oauth2']>;
    const { clientSecretRef: _ref, ...oauth2 } = block;
    const extras = { extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' }, extraTokenParams: { audience: 'https://api.svc.example' } };
    spec
      .given([])
      .when(createCommand({ name: 'Svc', linkName: 'svc', authType: 'oauth2', baseUrl: base.baseUrl, oauth2: { ...oauth2, authorizeUrl: 'https://svc.example/authorize', refreshTokenUrl: undefined, revokeUrl: undefined, clientSecret: 's', ...extras } }, 'ref-1'))
      .then([{ ...oauth2Service, data: { ...oauth2Service.data, oauth2: { ...block, ...extras } } }]);
  });

  it('OAuth 2: edits the extra parameters like the URLs (a change is recorded, the same set in another order is not)', () => {
    const withExtras: ServiceCreated = { ...oauth2Service, data: { ...oauth2Service.data, oauth2: { ...(oauth2Service.data.oauth2 as NonNullable<ServiceCreated['data']['oauth2']>), extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' } } } };
    spec
      .given([oauth2Service])
      .when(editCommand({ oauth2: { extraAuthorizeParams: { prompt: 'consent' }, extraTokenParams: { resource: 'https://api.svc.example' } } }))
      .then([edited(['oauth2.extraAuthorizeParams', 'oauth2.extraTokenParams'], { oauth2: { extraAuthorizeParams: { prompt: 'consent' }, extraTokenParams: { resource: 'https://api.svc.example' } } })]);
    spec.given([withExtras]).when(editCommand({ oauth2: { extraAuthorizeParams: { prompt: 'consent', access_type: 'offline' } } })).then([]);
    spec.given([withExtras]).when(editCommand({ oauth2: { extraAuthorizeParams: {} } })).then([edited(['oauth2.extraAuthorizeParams'], { oauth2: { extraAuthorizeParams: {} } })]);
  });

  it('OAuth 2: adds scopes', () => {
    const scopes = [
      { name: 'read', displayName: 'Read' },
      { name: 'write', displayName: 'Write' },
    ];
    spec.given([oauth2Service]).when(editCommand({ oauth2: { scopes } })).then([edited(['oauth2.scopes'], { oauth2: { scopes } })]);
  });

  it('OAuth 2: refuses to remove or edit a scope', () => {
    spec.given([oauth2Service]).when(editCommand({ oauth2: { scopes: [{ name: 'write', displayName: 'Write' }] } })).thenFails({ code: 'field_not_editable', message: /not removed \(missing: read\)/ });
    spec.given([oauth2Service]).when(editCommand({ oauth2: { scopes: [{ name: 'read', displayName: 'Read all' }] } })).thenFails({ code: 'field_not_editable', message: /not edited \(read\)/ });
  });

  it('OAuth 2: never changes the grant type or the scope delimiter', () => {
    spec.given([oauth2Service]).when(editCommand({ oauth2: { grantType: 'client_credentials' } })).thenFails({ code: 'field_not_editable', message: /^oauth2.grantType cannot be changed/ });
    spec.given([oauth2Service]).when(editCommand({ oauth2: { scopeDelimiter: 'space' } })).thenFails({ code: 'field_not_editable', message: /^oauth2.scopeDelimiter cannot be changed/ });
  });

  it('folds edits into the state, so a second edit sees the first', () => {
    const first = edited(['oauth2.scopes'], { oauth2: { scopes: [...oauth2Service.data.oauth2!.scopes, { name: 'write', displayName: 'Write' }] } });
    spec.given([oauth2Service, first]).when(editCommand({ oauth2: { scopes: [{ name: 'read', displayName: 'Read' }] } })).thenFails({ code: 'field_not_editable', message: /missing: write/ });
  });
});

describe('service decider: delete', () => {
  it('deletes a service without connections, for its owner only', () => {
    spec.given([basicService]).when(deleteCommand()).then([{ type: 'ServiceDeleted', data: { orgId: 'acme', linkName: 'svc', deletedBy: 'alice', deletedAt: later } }]);
    spec.given([basicService]).when(deleteCommand('bob')).thenFails({ code: 'not_owner' });
  });

  it('refuses while connections remain', () => {
    spec.given([basicService]).when(deleteCommand('alice', 2)).thenFails({ code: 'service_in_use', message: /still has 2 connections/ });
  });

  it('refuses to delete twice', () => {
    spec.given([basicService, { type: 'ServiceDeleted', data: { orgId: 'acme', linkName: 'svc', deletedBy: 'alice', deletedAt: now } }]).when(deleteCommand()).thenFails({ code: 'service_not_found' });
  });
});
