import type { Provider } from '@nestjs/common';
import { fillTemplate, findCatalogEntry, type CatalogEntry } from '@plugboard/catalog';
import { DomainError, ErrorCodes, serviceClientStreamId, serviceStreamId, type AuthType, type ServiceDefinition } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { customCalls, predefinedCalls, type ServiceCalls } from '@plugboard/outbound';
import { serviceClientDecider, serviceDecider } from '@plugboard/registry-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';

/** What is needed of a connection to find its service: which one, and the values its templated URLs take. */
export interface ServiceRef {
  service: string;
  serviceType: 'predefined' | 'custom';
  parameters: Record<string, string>;
}

/** An OAuth client (an OAuth 1.0a consumer's key and secret travel as id and secret). */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** An OAuth 2 service's endpoints and flow options, templated URLs filled. */
export interface OAuth2Endpoints {
  grantType: 'authorization_code' | 'client_credentials';
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  authorizeUrl: string | null;
  tokenUrl: string;
  /** Where refresh tokens are spent, when the provider has its own URL for it. */
  refreshUrl: string | null;
  /** RFC 7009 endpoint, when the service has one. */
  revokeUrl: string | null;
  scopeDelimiter: 'comma' | 'space' | 'plus';
  pkce: boolean;
  extraAuthorizeParams: Record<string, string>;
  extraTokenParams: Record<string, string>;
}

export type OAuth2Settings = OAuth2Endpoints & OAuthClient;

/** An OAuth 1.0a service's endpoints, templated URLs filled. */
export interface OAuth1Endpoints {
  requestTokenUrl: string;
  authorizeUrl: string;
  accessTokenUrl: string;
  signatureMethod: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT';
  extraAuthorizeParams: Record<string, string>;
}

export interface OAuth1Settings extends OAuth1Endpoints {
  consumerKey: string;
  consumerSecret: string;
}

/** What a service offers a connection, whatever the connection's parameters: enough to create, edit or describe one. */
export interface ServiceOutline {
  linkName: string;
  name: string;
  type: 'predefined' | 'custom';
  authType: AuthType;
  /** The values an API-key credential gives. */
  apiKeyParams: { name: string; displayName: string }[];
  /** The OAuth 2 scopes it offers. */
  scopes: { name: string; displayName: string }[];
  /** A predefined service's catalog entry (its connection parameters, what its provider gives at authorization), else null. */
  entry: CatalogEntry | null;
}

/**
 * A connection's service in one shape, whether the catalog ships it or an org created it, its templated URLs filled
 * with the connection's parameters. Holds its OAuth client's secret when it has one: keep it in memory only.
 */
export interface ResolvedService extends ServiceOutline {
  /** How calls through it go and how a credential is verified (`serviceTargetOf`, `verificationTargetOf`), built here once. */
  source: ServiceCalls;
  oauth2: OAuth2Endpoints | null;
  oauth1: OAuth1Endpoints | null;
  /** Its OAuth client: a custom service's own, a predefined one's org registration else the deployment's; null when none. */
  client: OAuthClient | null;
}

type Clients = Record<string, OAuthClient>;

/**
 * The one place "predefined or custom" is decided: a connection's service from the catalog and its OAuth client
 * (the org's own, PUT /v1/services/{linkName}/client, else the deployment's, PLUGBOARD_PREDEFINED_CLIENTS), or from
 * the custom service's own stream (the registry's events are the contract) and the vault. Templated URLs are filled
 * with the connection's parameters. The authorize flow, token refresh, verification, provider revocation and invoke
 * all ask here, in-process.
 */
export class ServiceDefinitions {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly predefinedClients: Clients,
  ) {}

  /** The service, or `service_not_found` when the catalog or the org no longer has it. */
  async get(orgId: string, ref: ServiceRef): Promise<ResolvedService> {
    return ref.serviceType === 'predefined' ? this.predefined(orgId, ref) : this.custom(orgId, ref);
  }

  /**
   * A service by its link name alone, as a connection being created names it: the org's custom service of that name,
   * else the catalog's; `service_not_found` when there is neither.
   */
  async find(orgId: string, linkName: string): Promise<ServiceOutline> {
    const { state } = await this.store.aggregateStream(serviceStreamId(orgId, linkName), serviceDecider);
    if (state.status === 'active') return customOutline(state.service);
    const entry = findCatalogEntry(linkName);
    if (entry) return predefinedOutline(entry);
    throw new DomainError(ErrorCodes.serviceNotFound, `No service with link name "${linkName}" exists in this organization.`);
  }

  /** The service's OAuth 2 endpoints and client; `service_not_found` if it is not OAuth 2, `service_not_configured` without a client. */
  async oauth2(orgId: string, ref: ServiceRef): Promise<OAuth2Settings> {
    return oauth2SettingsOf(await this.get(orgId, ref));
  }

  /** The service's OAuth 1.0a endpoints and consumer, as `oauth2` does. */
  async oauth1(orgId: string, ref: ServiceRef): Promise<OAuth1Settings> {
    return oauth1SettingsOf(await this.get(orgId, ref));
  }

  /** The service as calls through it need it (see `serviceTargetOf`): an OAuth 1.0a consumer's secret included. */
  async source(orgId: string, ref: ServiceRef): Promise<ServiceCalls> {
    return (await this.get(orgId, ref)).source;
  }

  private async predefined(orgId: string, ref: ServiceRef): Promise<ResolvedService> {
    const entry = findCatalogEntry(ref.service);
    if (!entry) throw new DomainError(ErrorCodes.serviceNotFound, `The service "${ref.service}" of this connection is no longer in the catalog.`);
    const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], ref.parameters);
    const oauth = entry.authType === 'oauth1' || entry.authType === 'oauth2';
    const client = oauth ? await this.registeredClient(orgId, ref.service) : null;
    const resolved: ResolvedService = {
      ...predefinedOutline(entry),
      source: predefinedCalls(entry, ref.parameters, entry.authType === 'oauth1' && client ? { key: client.clientId, secret: client.clientSecret } : null),
      oauth2: null,
      oauth1: null,
      client,
    };
    if (entry.authType === 'oauth2') {
      const o = entry.oauth2;
      resolved.oauth2 = {
        grantType: o.grantType,
        clientAuth: o.tokenEndpointAuth,
        authorizeUrl: o.authorizeUrl ? fill(o.authorizeUrl) : null,
        tokenUrl: fill(o.accessTokenUrl),
        refreshUrl: o.refreshTokenUrl ? fill(o.refreshTokenUrl) : null,
        revokeUrl: o.revokeUrl ? fill(o.revokeUrl) : null,
        scopeDelimiter: o.scopeDelimiter,
        pkce: o.pkce,
        extraAuthorizeParams: { ...o.extraAuthorizeParams },
        extraTokenParams: { ...(o.extraTokenParams ?? {}) },
      };
    }
    if (entry.authType === 'oauth1') {
      resolved.oauth1 = {
        requestTokenUrl: fill(entry.oauth1.requestTokenUrl),
        authorizeUrl: fill(entry.oauth1.authorizeUrl),
        accessTokenUrl: fill(entry.oauth1.accessTokenUrl),
        signatureMethod: entry.oauth1.signatureMethod === 'RSA-SHA1' ? 'HMAC-SHA1' : entry.oauth1.signatureMethod,
        extraAuthorizeParams: { ...(entry.oauth1.extraAuthorizeParams ?? {}) },
      };
    }
    return resolved;
  }

  private async custom(orgId: string, ref: ServiceRef): Promise<ResolvedService> {
    const definition = await this.definition(orgId, ref.service);
    const { oauth1, oauth2 } = definition;
    // Every use of an OAuth 1.0a service signs with its consumer's secret, so a missing one is reported at once.
    const oauth1ConsumerSecret = oauth1 ? await this.secret(orgId, oauth1.consumerSecretRef, ref.service) : null;
    const oauth2ClientSecret = oauth2 ? await this.vault.get<string>(this.store.dataSource.manager, oauth2.clientSecretRef, orgId) : null;
    return {
      ...customOutline(definition),
      source: customCalls(definition, oauth1ConsumerSecret),
      oauth2: oauth2
        ? {
            grantType: oauth2.grantType,
            // RFC 6749 §2.3.1: every authorization server supports HTTP Basic for client authentication.
            clientAuth: 'client_secret_basic',
            authorizeUrl: oauth2.authorizeUrl ?? null,
            tokenUrl: oauth2.accessTokenUrl,
            refreshUrl: oauth2.refreshTokenUrl ?? null,
            revokeUrl: oauth2.revokeUrl ?? null,
            scopeDelimiter: oauth2.scopeDelimiter,
            pkce: true,
            extraAuthorizeParams: { ...(oauth2.extraAuthorizeParams ?? {}) },
            extraTokenParams: { ...(oauth2.extraTokenParams ?? {}) },
          }
        : null,
      oauth1: oauth1
        ? { requestTokenUrl: oauth1.requestTokenUrl, authorizeUrl: oauth1.authorizeUrl, accessTokenUrl: oauth1.accessTokenUrl, signatureMethod: 'HMAC-SHA1', extraAuthorizeParams: {} }
        : null,
      client: oauth2 && oauth2ClientSecret !== null ? { clientId: oauth2.clientId, clientSecret: oauth2ClientSecret } : oauth1 && oauth1ConsumerSecret !== null ? { clientId: oauth1.consumerKey, clientSecret: oauth1ConsumerSecret } : null,
    };
  }

  private async definition(orgId: string, linkName: string): Promise<ServiceDefinition> {
    const { state } = await this.store.aggregateStream(serviceStreamId(orgId, linkName), serviceDecider);
    if (state.status !== 'active') throw new DomainError(ErrorCodes.serviceNotFound, `The service "${linkName}" of this connection no longer exists.`);
    return state.service;
  }

  private async secret(orgId: string, ref: string, linkName: string): Promise<string> {
    const secret = await this.vault.get<string>(this.store.dataSource.manager, ref, orgId);
    if (secret === null) throw new DomainError(ErrorCodes.serviceNotConfigured, missingSecret(linkName));
    return secret;
  }

  /** The org's own OAuth app for a predefined service (its stream and the vault), else the deployment's, else none. */
  private async registeredClient(orgId: string, linkName: string): Promise<OAuthClient | null> {
    const { state } = await this.store.aggregateStream(serviceClientStreamId(orgId, linkName), serviceClientDecider);
    if (state.client) return { clientId: state.client.clientId, clientSecret: await this.secret(orgId, state.client.clientSecretRef, linkName) };
    return this.predefinedClients[linkName] ?? null;
  }
}

/** A scope or an API-key parameter as a connection shows it. */
function nameAndLabel({ name, displayName }: { name: string; displayName: string }): { name: string; displayName: string } {
  return { name, displayName };
}

function predefinedOutline(entry: CatalogEntry): ServiceOutline {
  return {
    linkName: entry.linkName,
    name: entry.name,
    type: 'predefined',
    authType: entry.authType,
    apiKeyParams: entry.authType === 'api_key' ? entry.apiKey.params.map(nameAndLabel) : [],
    scopes: entry.authType === 'oauth2' ? entry.oauth2.scopes.map(nameAndLabel) : [],
    entry,
  };
}

function customOutline(definition: ServiceDefinition): ServiceOutline {
  return {
    linkName: definition.linkName,
    name: definition.name,
    type: 'custom',
    authType: definition.authType,
    apiKeyParams: (definition.apiKey?.params ?? []).map(nameAndLabel),
    scopes: (definition.oauth2?.scopes ?? []).map(nameAndLabel),
    entry: null,
  };
}

/** A service's OAuth 2 endpoints with its client; `service_not_found` if it is not OAuth 2, `service_not_configured` without a client. */
export function oauth2SettingsOf(service: ResolvedService): OAuth2Settings {
  if (!service.oauth2) throw new DomainError(ErrorCodes.serviceNotFound, `The ${service.type === 'predefined' ? 'predefined service' : 'service'} "${service.linkName}" is not an OAuth 2 service.`);
  const client = clientOf(service);
  return { ...service.oauth2, clientId: client.clientId, clientSecret: client.clientSecret };
}

/** A service's OAuth 1.0a endpoints with its consumer, as `oauth2SettingsOf`. */
export function oauth1SettingsOf(service: ResolvedService): OAuth1Settings {
  if (!service.oauth1) throw new DomainError(ErrorCodes.serviceNotFound, `The ${service.type === 'predefined' ? 'predefined service' : 'service'} "${service.linkName}" is not an OAuth 1.0a service.`);
  const client = clientOf(service);
  return { ...service.oauth1, consumerKey: client.clientId, consumerSecret: client.clientSecret };
}

function clientOf(service: ResolvedService): OAuthClient {
  if (service.client) return service.client;
  if (service.type === 'custom') throw new DomainError(ErrorCodes.serviceNotConfigured, missingSecret(service.linkName));
  throw new DomainError(
    ErrorCodes.serviceNotConfigured,
    `No OAuth client is registered for ${service.name}: an admin of this organization can register its own (PUT /v1/services/${service.linkName}/client), or this Plugboard's operator one for every organization (PLUGBOARD_PREDEFINED_CLIENTS).`,
  );
}

function missingSecret(linkName: string): string {
  return `The secret of the service "${linkName}" is missing.`;
}

/** ServiceDefinitions for an app's module: its store and vault, the deployment's predefined clients. */
export const serviceDefinitionsProvider: Provider = {
  provide: ServiceDefinitions,
  useFactory: (store: EventStore, vault: Vault, config: PlatformConfig) => new ServiceDefinitions(store, vault, config.PLUGBOARD_PREDEFINED_CLIENTS ? JSON.parse(config.PLUGBOARD_PREDEFINED_CLIENTS) : {}),
  inject: [EventStore, Vault, PLATFORM_CONFIG],
};
