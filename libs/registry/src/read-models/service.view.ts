import type { CatalogEntry } from '@plugboard/catalog';
import { MASKED_SECRET, type ServiceDefinition, type ServiceView } from '@plugboard/contracts';
import type { ServiceRecord } from './service.record';

/** The read-model row of a definition (the projection writes it; it holds vault references, never secrets). */
export function toRecordFields(definition: ServiceDefinition): Omit<ServiceRecord, 'connectionCount' | 'revision' | 'createdAt' | 'updatedAt'> {
  return {
    orgId: definition.orgId,
    linkName: definition.linkName,
    name: definition.name,
    authType: definition.authType,
    baseUrl: definition.baseUrl,
    allowedHosts: definition.allowedHosts,
    authConfig: { apiKey: definition.apiKey, oauth1: definition.oauth1, oauth2: definition.oauth2, verify: definition.verify ?? undefined },
    owner: definition.owner,
  };
}

/** The definition a row stands for, so an edit can be folded into it the same way the decider does. */
export function toDefinition(record: ServiceRecord): ServiceDefinition {
  const { apiKey, oauth1, oauth2, verify } = record.authConfig ?? {};
  return {
    orgId: record.orgId,
    linkName: record.linkName,
    name: record.name,
    authType: record.authType,
    baseUrl: record.baseUrl,
    allowedHosts: record.allowedHosts,
    owner: record.owner,
    createdAt: record.createdAt.toISOString(),
    ...(verify ? { verify } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(oauth1 ? { oauth1 } : {}),
    ...(oauth2 ? { oauth2 } : {}),
  };
}

/** What callers see of a custom service: its secrets only as a mask. */
export function toServiceView(record: ServiceRecord): ServiceView {
  const view: ServiceView = {
    name: record.name,
    linkName: record.linkName,
    type: 'custom',
    authType: record.authType,
    baseUrl: record.baseUrl,
    allowedHosts: record.allowedHosts,
    owner: record.owner,
    connectionCount: record.connectionCount,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
  const { apiKey, oauth1, oauth2, verify } = record.authConfig ?? {};
  if (verify) view.verify = verify;
  if (apiKey) view.apiKey = apiKey;
  if (oauth1) {
    const { consumerSecretRef: _ref, ...rest } = oauth1;
    view.oauth1 = { ...rest, consumerSecret: MASKED_SECRET };
  }
  if (oauth2) {
    const { clientSecretRef: _ref, ...rest } = oauth2;
    view.oauth2 = {
      ...rest,
      authorizeUrl: rest.authorizeUrl ?? undefined,
      refreshTokenUrl: rest.refreshTokenUrl ?? undefined,
      revokeUrl: rest.revokeUrl ?? undefined,
      clientSecret: MASKED_SECRET,
    };
  }
  return view;
}

/**
 * What callers see of a predefined service. Its OAuth client (id and secret) is the deployment's, not part of the
 * catalog, so the view shows the provider's endpoints and scopes only.
 */
export function toPredefinedView(entry: CatalogEntry, connectionCount = 0): ServiceView {
  const view: ServiceView = {
    name: entry.name,
    linkName: entry.linkName,
    type: 'predefined',
    authType: entry.authType,
    baseUrl: entry.baseUrl,
    allowedHosts: [...entry.allowedHosts],
    owner: null,
    connectionCount,
    description: entry.description,
    docsUrl: entry.docsUrl,
    category: entry.category,
    createdAt: null,
    updatedAt: null,
  };
  if (entry.connectionParameters) view.connectionParameters = entry.connectionParameters.map((p) => ({ ...p }));
  if (entry.verify) view.verify = { ...entry.verify };
  switch (entry.authType) {
    case 'api_key':
      view.apiKey = { params: entry.apiKey.params.map(({ name, displayName, paramType }) => ({ name, displayName, paramType })) };
      break;
    case 'oauth1':
      view.oauth1 = {
        requestTokenUrl: entry.oauth1.requestTokenUrl,
        authorizeUrl: entry.oauth1.authorizeUrl,
        accessTokenUrl: entry.oauth1.accessTokenUrl,
        paramType: entry.oauth1.paramType,
        signatureMethod: entry.oauth1.signatureMethod,
      };
      break;
    case 'oauth2': {
      const o = entry.oauth2;
      view.oauth2 = {
        grantType: o.grantType,
        authorizeUrl: o.authorizeUrl,
        accessTokenUrl: o.accessTokenUrl,
        refreshTokenUrl: o.refreshTokenUrl,
        revokeUrl: o.revokeUrl,
        paramType: o.paramType,
        scopes: o.scopes.map((s) => ({ ...s })),
        scopeDelimiter: o.scopeDelimiter,
        pkce: o.pkce,
      };
      break;
    }
    case 'basic':
      break;
  }
  return view;
}
