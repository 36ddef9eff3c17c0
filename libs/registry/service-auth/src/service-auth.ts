import type { Provider } from '@nestjs/common';
import { fillTemplate, findCatalogEntry } from '@plugboard/catalog';
import { DomainError, ErrorCodes, serviceClientStreamId, serviceStreamId } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import type { ServiceSource } from '@plugboard/outbound';
import { serviceClientDecider, serviceDecider } from '@plugboard/registry-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';

/** What is needed of a connection to find its service: which one, and the values its templated URLs take. */
export interface ServiceRef {
  service: string;
  serviceType: 'predefined' | 'custom';
  parameters: Record<string, string>;
}

export interface OAuth2Settings {
  grantType: 'authorization_code' | 'client_credentials';
  clientId: string;
  clientSecret: string;
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

export interface OAuth1Settings {
  consumerKey: string;
  consumerSecret: string;
  requestTokenUrl: string;
  authorizeUrl: string;
  accessTokenUrl: string;
  signatureMethod: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT';
  extraAuthorizeParams: Record<string, string>;
}

type Clients = Record<string, { clientId: string; clientSecret: string }>;

/**
 * A connection's service as every app needs it, secrets included (keep them in memory only): a custom service from
 * its own stream (the registry's events are the contract) and the vault, a predefined one from the catalog and its
 * OAuth client: the org's own (PUT /v1/services/{linkName}/client), else the deployment's (PLUGBOARD_PREDEFINED_CLIENTS). Templated URLs are filled with the connection's
 * parameters. The one home of these rules: the connection, token-refresh and invoke-proxy apps all ask here.
 */
export class ServiceAuth {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly predefinedClients: Clients,
  ) {}

  async oauth2(orgId: string, ref: ServiceRef): Promise<OAuth2Settings> {
    if (ref.serviceType === 'predefined') {
      const entry = findCatalogEntry(ref.service);
      if (entry?.authType !== 'oauth2') throw new DomainError(ErrorCodes.serviceNotFound, `The predefined service "${ref.service}" is not an OAuth 2 service.`);
      const client = await this.clientOf(orgId, ref.service, entry.name);
      const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], ref.parameters);
      const o = entry.oauth2;
      return {
        grantType: o.grantType,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
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
    const service = await this.custom(orgId, ref.service);
    if (!service.oauth2) throw new DomainError(ErrorCodes.serviceNotFound, `The service "${ref.service}" is not an OAuth 2 service.`);
    const o = service.oauth2;
    return {
      grantType: o.grantType,
      clientId: o.clientId,
      clientSecret: await this.secret(orgId, o.clientSecretRef, ref.service),
      // RFC 6749 §2.3.1: every authorization server supports HTTP Basic for client authentication.
      clientAuth: 'client_secret_basic',
      authorizeUrl: o.authorizeUrl ?? null,
      tokenUrl: o.accessTokenUrl,
      refreshUrl: o.refreshTokenUrl ?? null,
      revokeUrl: o.revokeUrl ?? null,
      scopeDelimiter: o.scopeDelimiter,
      pkce: true,
      extraAuthorizeParams: { ...(o.extraAuthorizeParams ?? {}) },
      extraTokenParams: { ...(o.extraTokenParams ?? {}) },
    };
  }

  async oauth1(orgId: string, ref: ServiceRef): Promise<OAuth1Settings> {
    if (ref.serviceType === 'predefined') {
      const entry = findCatalogEntry(ref.service);
      if (entry?.authType !== 'oauth1') throw new DomainError(ErrorCodes.serviceNotFound, `The predefined service "${ref.service}" is not an OAuth 1.0a service.`);
      const client = await this.clientOf(orgId, ref.service, entry.name);
      const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], ref.parameters);
      return {
        consumerKey: client.clientId,
        consumerSecret: client.clientSecret,
        requestTokenUrl: fill(entry.oauth1.requestTokenUrl),
        authorizeUrl: fill(entry.oauth1.authorizeUrl),
        accessTokenUrl: fill(entry.oauth1.accessTokenUrl),
        signatureMethod: entry.oauth1.signatureMethod === 'RSA-SHA1' ? 'HMAC-SHA1' : entry.oauth1.signatureMethod,
        extraAuthorizeParams: { ...(entry.oauth1.extraAuthorizeParams ?? {}) },
      };
    }
    const service = await this.custom(orgId, ref.service);
    if (!service.oauth1) throw new DomainError(ErrorCodes.serviceNotFound, `The service "${ref.service}" is not an OAuth 1.0a service.`);
    return {
      consumerKey: service.oauth1.consumerKey,
      consumerSecret: await this.secret(orgId, service.oauth1.consumerSecretRef, ref.service),
      requestTokenUrl: service.oauth1.requestTokenUrl,
      authorizeUrl: service.oauth1.authorizeUrl,
      accessTokenUrl: service.oauth1.accessTokenUrl,
      signatureMethod: 'HMAC-SHA1',
      extraAuthorizeParams: {},
    };
  }

  /** The service as calls through it need it (see `serviceTargetOf`): an OAuth 1.0a consumer's secret included. */
  async source(orgId: string, ref: ServiceRef): Promise<ServiceSource> {
    if (ref.serviceType === 'predefined') {
      const entry = findCatalogEntry(ref.service);
      if (!entry) throw new DomainError(ErrorCodes.serviceNotFound, `The service "${ref.service}" of this connection is no longer in the catalog.`);
      const client = entry.authType === 'oauth1' ? await this.registeredClient(orgId, ref.service) : undefined;
      return { type: 'predefined', entry, parameters: ref.parameters, oauth1Consumer: client ? { key: client.clientId, secret: client.clientSecret } : null };
    }
    const definition = await this.custom(orgId, ref.service);
    const oauth1ConsumerSecret = definition.oauth1 ? await this.secret(orgId, definition.oauth1.consumerSecretRef, ref.service) : null;
    return { type: 'custom', definition, oauth1ConsumerSecret };
  }

  private async custom(orgId: string, linkName: string) {
    const { state } = await this.store.aggregateStream(serviceStreamId(orgId, linkName), serviceDecider);
    if (state.status !== 'active') throw new DomainError(ErrorCodes.serviceNotFound, `The service "${linkName}" of this connection no longer exists.`);
    return state.service;
  }

  private async secret(orgId: string, ref: string, linkName: string): Promise<string> {
    const secret = await this.vault.get<string>(this.store.dataSource.manager, ref, orgId);
    if (secret === null) throw new DomainError(ErrorCodes.serviceNotConfigured, `The secret of the service "${linkName}" is missing.`);
    return secret;
  }

  private async clientOf(orgId: string, linkName: string, name: string): Promise<{ clientId: string; clientSecret: string }> {
    const client = await this.registeredClient(orgId, linkName);
    if (!client) {
      throw new DomainError(
        ErrorCodes.serviceNotConfigured,
        `No OAuth client is registered for ${name}: an admin of this organization can register its own (PUT /v1/services/${linkName}/client), or this Plugboard's operator one for every organization (PLUGBOARD_PREDEFINED_CLIENTS).`,
      );
    }
    return client;
  }

  /** The org's own OAuth app for a predefined service (its stream and the vault), else the deployment's, else none. */
  private async registeredClient(orgId: string, linkName: string): Promise<{ clientId: string; clientSecret: string } | undefined> {
    const { state } = await this.store.aggregateStream(serviceClientStreamId(orgId, linkName), serviceClientDecider);
    if (state.client) return { clientId: state.client.clientId, clientSecret: await this.secret(orgId, state.client.clientSecretRef, linkName) };
    return this.predefinedClients[linkName];
  }
}

/** ServiceAuth for an app's module: its store and vault, the deployment's predefined clients. */
export const serviceAuthProvider: Provider = {
  provide: ServiceAuth,
  useFactory: (store: EventStore, vault: Vault, config: PlatformConfig) => new ServiceAuth(store, vault, config.PLUGBOARD_PREDEFINED_CLIENTS ? JSON.parse(config.PLUGBOARD_PREDEFINED_CLIENTS) : {}),
  inject: [EventStore, Vault, PLATFORM_CONFIG],
};
