import type { ApiKeyParam, AuthType, ParamType, Verify } from './service.contract';

/**
 * Events of a `service-<orgId>.<linkName>` stream. They describe the service without its secrets: a client or
 * consumer secret lives in the vault, and the event only names the vault entry that holds it.
 */
export type ServiceCreated = {
  type: 'ServiceCreated';
  data: {
    orgId: string;
    linkName: string;
    name: string;
    authType: AuthType;
    baseUrl: string | null;
    allowedHosts: string[];
    owner: string;
    /** Absent in events recorded before verification calls existed. */
    verify?: Verify | null;
    apiKey?: { params: ApiKeyParam[] };
    oauth1?: { consumerKey: string; requestTokenUrl: string; authorizeUrl: string; accessTokenUrl: string; paramType: ParamType; consumerSecretRef: string };
    oauth2?: {
      grantType: 'authorization_code' | 'client_credentials';
      clientId: string;
      authorizeUrl: string | null;
      accessTokenUrl: string;
      refreshTokenUrl: string | null;
      /** Absent in events recorded before provider revocation existed. */
      revokeUrl?: string | null;
      paramType: 'query' | 'header';
      scopes: { name: string; displayName: string }[];
      scopeDelimiter: 'comma' | 'space' | 'plus';
      /** Absent in events recorded before custom services took extra parameters. */
      extraAuthorizeParams?: Record<string, string>;
      extraTokenParams?: Record<string, string>;
      clientSecretRef: string;
    };
    createdAt: string;
  };
};

/** A custom service as its stream describes it (no secrets; vault references only). */
export type ServiceDefinition = ServiceCreated['data'];

/**
 * An accepted edit. `changedFields` names what changed (`name`, `oauth2.clientSecret`, `apiKey.params`…), so that
 * subscribers (the revocation saga, webhooks) know without seeing values; `changes` holds the new non-secret values
 * and, for a new secret, the new vault reference.
 */
export type ServiceEdited = {
  type: 'ServiceEdited';
  data: {
    orgId: string;
    linkName: string;
    changedFields: string[];
    changes: {
      name?: string;
      baseUrl?: string | null;
      allowedHosts?: string[];
      verify?: Verify | null;
      apiKey?: { params: ApiKeyParam[] };
      oauth1?: Partial<NonNullable<ServiceDefinition['oauth1']>>;
      oauth2?: Partial<Omit<NonNullable<ServiceDefinition['oauth2']>, 'grantType' | 'scopeDelimiter'>>;
    };
    editedBy: string;
    editedAt: string;
  };
};

export type ServiceDeleted = {
  type: 'ServiceDeleted';
  data: { orgId: string; linkName: string; deletedBy: string; deletedAt: string };
};

export type ServiceEvent = ServiceCreated | ServiceEdited | ServiceDeleted;
export type ServiceEventType = ServiceEvent['type'];

/** Stream id of a custom service: one stream per (org, link name), which is what makes link names unique. */
export function serviceStreamId(orgId: string, linkName: string): string {
  return `service-${orgId}.${linkName}`;
}
