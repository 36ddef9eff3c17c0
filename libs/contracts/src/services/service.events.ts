import type { ApiKeyParam, AuthType } from './service.contract';

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
    apiKey?: { params: ApiKeyParam[] };
    oauth1?: { consumerKey: string; requestTokenUrl: string; authorizeUrl: string; accessTokenUrl: string; paramType: string; consumerSecretRef: string };
    oauth2?: {
      grantType: 'authorization_code' | 'client_credentials';
      clientId: string;
      authorizeUrl: string | null;
      accessTokenUrl: string;
      refreshTokenUrl: string | null;
      paramType: 'query' | 'header';
      scopes: { name: string; displayName: string }[];
      scopeDelimiter: 'comma' | 'space' | 'plus';
      clientSecretRef: string;
    };
    createdAt: string;
  };
};

export type ServiceEvent = ServiceCreated;
export type ServiceEventType = ServiceEvent['type'];

/** Stream id of a custom service: one stream per (org, link name), which is what makes link names unique. */
export function serviceStreamId(orgId: string, linkName: string): string {
  return `service-${orgId}.${linkName}`;
}
