import type { CreateServiceInput, ServiceCreated } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { serviceDecider, type CreateService } from './service.decider';

const spec = deciderSpec(serviceDecider);
const now = '2026-11-23T10:00:00.000Z';

function createCommand(input: CreateServiceInput, secretRef: string | null = null): CreateService {
  return { type: 'CreateService', data: { orgId: 'acme', owner: 'alice', input, secretRef, now } };
}

const apiKeyInput: CreateServiceInput = {
  name: 'Acme CRM',
  linkName: 'acme_crm',
  authType: 'api_key',
  baseUrl: 'https://api.acme.example/v2',
  apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
};

const created: ServiceCreated = {
  type: 'ServiceCreated',
  data: {
    orgId: 'acme',
    linkName: 'acme_crm',
    name: 'Acme CRM',
    authType: 'api_key',
    baseUrl: 'https://api.acme.example/v2',
    allowedHosts: ['api.acme.example'],
    owner: 'alice',
    apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
    createdAt: now,
  },
};

describe('service decider', () => {
  it('creates an API key service owned by its creator, allowed to send credentials to its base URL host', () => {
    spec.given([]).when(createCommand(apiKeyInput)).then([created]);
  });

  it('keeps explicitly allowed hosts instead of the base URL host', () => {
    spec
      .given([])
      .when(createCommand({ ...apiKeyInput, allowedHosts: ['api.acme.example', 'uploads.acme.example'] }))
      .then([{ ...created, data: { ...created.data, allowedHosts: ['api.acme.example', 'uploads.acme.example'] } }]);
  });

  it('refuses a link name already taken in the org', () => {
    spec
      .given([created])
      .when(createCommand({ name: 'Other', linkName: 'acme_crm', authType: 'basic' }))
      .thenFails({ code: 'link_name_taken', message: /acme_crm/ });
  });

  it('records an OAuth 2 service with a reference to its client secret, never the secret', () => {
    const input: CreateServiceInput = {
      name: 'Acme OAuth',
      linkName: 'acme_oauth',
      authType: 'oauth2',
      oauth2: {
        grantType: 'authorization_code',
        clientId: 'client-1',
        clientSecret: 'very-secret-value',
        authorizeUrl: 'https://auth.acme.example/authorize',
        accessTokenUrl: 'https://auth.acme.example/token',
        paramType: 'header',
        scopes: [{ name: 'crm.read', displayName: 'Read CRM' }],
        scopeDelimiter: 'space',
      },
    };
    const [event] = serviceDecider.decide(createCommand(input, 'vault-entry-1'), serviceDecider.initialState());
    expect(event).toEqual({
      type: 'ServiceCreated',
      data: {
        orgId: 'acme',
        linkName: 'acme_oauth',
        name: 'Acme OAuth',
        authType: 'oauth2',
        baseUrl: null,
        allowedHosts: [],
        owner: 'alice',
        oauth2: {
          grantType: 'authorization_code',
          clientId: 'client-1',
          authorizeUrl: 'https://auth.acme.example/authorize',
          accessTokenUrl: 'https://auth.acme.example/token',
          refreshTokenUrl: null,
          paramType: 'header',
          scopes: [{ name: 'crm.read', displayName: 'Read CRM' }],
          scopeDelimiter: 'space',
          clientSecretRef: 'vault-entry-1',
        },
        createdAt: now,
      },
    });
    expect(JSON.stringify(event)).not.toContain('very-secret-value');
  });

  it('records an OAuth 1.0a service with a reference to its consumer secret, never the secret', () => {
    const input: CreateServiceInput = {
      name: 'Trello-ish',
      linkName: 'trello_ish',
      authType: 'oauth1',
      oauth1: {
        consumerKey: 'ck',
        consumerSecret: 'consumer-secret-value',
        requestTokenUrl: 'https://trello.example/1/OAuthGetRequestToken',
        authorizeUrl: 'https://trello.example/1/OAuthAuthorizeToken',
        accessTokenUrl: 'https://trello.example/1/OAuthGetAccessToken',
        paramType: 'header',
      },
    };
    const [event] = serviceDecider.decide(createCommand(input, 'vault-entry-2'), serviceDecider.initialState());
    expect(event.data.oauth1).toMatchObject({ consumerKey: 'ck', consumerSecretRef: 'vault-entry-2' });
    expect(JSON.stringify(event)).not.toContain('consumer-secret-value');
  });
});
