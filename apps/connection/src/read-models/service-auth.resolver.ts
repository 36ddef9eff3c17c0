import { Inject, Injectable } from '@nestjs/common';
import { fillTemplate, findCatalogEntry } from '@plugboard/catalog';
import { DomainError, ErrorCodes, serviceStreamId, type ConnectionView } from '@plugboard/contracts';

/** What the resolver needs of a connection: its service, and the values its templated URLs take. */
export type ServiceRef = Pick<ConnectionView, 'service' | 'serviceType' | 'parameters'>;
import { EventStore } from '@plugboard/event-store';
import { serviceDecider } from '@plugboard/registry-domain';
import type { VerifiableService } from '@plugboard/outbound';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';

export interface OAuth2Settings {
  grantType: 'authorization_code' | 'client_credentials';
  clientId: string;
  clientSecret: string;
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  authorizeUrl: string | null;
  tokenUrl: string;
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

/**
 * The OAuth settings of a connection's service, with its client secret: a custom service's from its own stream
 * (the registry's events are the contract) and the vault, a predefined one's from the catalog and the deployment's
 * client registration (PLUGBOARD_PREDEFINED_CLIENTS). Templated URLs are filled with the connection's parameters.
 */
@Injectable()
export class ServiceAuthResolver {
  private readonly predefinedClients: Record<string, { clientId: string; clientSecret: string }>;

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.predefinedClients = config.PLUGBOARD_PREDEFINED_CLIENTS ? JSON.parse(config.PLUGBOARD_PREDEFINED_CLIENTS) : {};
  }

  async oauth2(orgId: string, connection: ServiceRef): Promise<OAuth2Settings> {
    if (connection.serviceType === 'predefined') {
      const entry = findCatalogEntry(connection.service);
      if (entry?.authType !== 'oauth2') throw new Error(`predefined service ${connection.service} is not OAuth 2`);
      const client = this.clientOf(connection.service, entry.name);
      const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], connection.parameters);
      return {
        grantType: entry.oauth2.grantType,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        clientAuth: entry.oauth2.tokenEndpointAuth,
        authorizeUrl: entry.oauth2.authorizeUrl ? fill(entry.oauth2.authorizeUrl) : null,
        tokenUrl: fill(entry.oauth2.accessTokenUrl),
        revokeUrl: entry.oauth2.revokeUrl ? fill(entry.oauth2.revokeUrl) : null,
        scopeDelimiter: entry.oauth2.scopeDelimiter,
        pkce: entry.oauth2.pkce,
        extraAuthorizeParams: { ...entry.oauth2.extraAuthorizeParams },
        extraTokenParams: { ...(entry.oauth2.extraTokenParams ?? {}) },
      };
    }
    const service = await this.custom(orgId, connection.service);
    if (!service.oauth2) throw new Error(`service ${connection.service} is not OAuth 2`);
    return {
      grantType: service.oauth2.grantType,
      clientId: service.oauth2.clientId,
      clientSecret: await this.secret(orgId, service.oauth2.clientSecretRef),
      // RFC 6749 §2.3.1: every authorization server supports HTTP Basic for client authentication.
      clientAuth: 'client_secret_basic',
      authorizeUrl: service.oauth2.authorizeUrl,
      tokenUrl: service.oauth2.accessTokenUrl,
      revokeUrl: service.oauth2.revokeUrl ?? null,
      scopeDelimiter: service.oauth2.scopeDelimiter,
      pkce: true,
      extraAuthorizeParams: {},
      extraTokenParams: {},
    };
  }

  async oauth1(orgId: string, connection: ServiceRef): Promise<OAuth1Settings> {
    if (connection.serviceType === 'predefined') {
      const entry = findCatalogEntry(connection.service);
      if (entry?.authType !== 'oauth1') throw new Error(`predefined service ${connection.service} is not OAuth 1.0a`);
      const client = this.clientOf(connection.service, entry.name);
      const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], connection.parameters);
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
    const service = await this.custom(orgId, connection.service);
    if (!service.oauth1) throw new Error(`service ${connection.service} is not OAuth 1.0a`);
    return {
      consumerKey: service.oauth1.consumerKey,
      consumerSecret: await this.secret(orgId, service.oauth1.consumerSecretRef),
      requestTokenUrl: service.oauth1.requestTokenUrl,
      authorizeUrl: service.oauth1.authorizeUrl,
      accessTokenUrl: service.oauth1.accessTokenUrl,
      signatureMethod: 'HMAC-SHA1',
      extraAuthorizeParams: {},
    };
  }

  /** The service as a verification call needs it (API key and Basic services: no secret of the service involved). */
  async verifiable(orgId: string, connection: ServiceRef): Promise<VerifiableService> {
    if (connection.serviceType === 'predefined') {
      const entry = findCatalogEntry(connection.service);
      if (!entry) throw new DomainError(ErrorCodes.serviceNotFound, `The service "${connection.service}" of this connection is no longer in the catalog.`);
      return { type: 'predefined', entry, parameters: connection.parameters };
    }
    return { type: 'custom', definition: await this.custom(orgId, connection.service) };
  }

  private async custom(orgId: string, linkName: string) {
    const { state } = await this.store.aggregateStream(serviceStreamId(orgId, linkName), serviceDecider);
    if (state.status !== 'active') throw new DomainError(ErrorCodes.serviceNotFound, `The service "${linkName}" of this connection no longer exists.`);
    return state.service;
  }

  private async secret(orgId: string, ref: string): Promise<string> {
    const secret = await this.vault.get<string>(this.store.dataSource.manager, ref, orgId);
    if (secret === null) throw new Error('the service secret is missing from the vault');
    return secret;
  }

  private clientOf(linkName: string, name: string): { clientId: string; clientSecret: string } {
    const client = this.predefinedClients[linkName];
    if (!client) {
      throw new DomainError(ErrorCodes.serviceNotConfigured, `This Plugboard has no OAuth client registered for ${name}. Its operator can add one in PLUGBOARD_PREDEFINED_CLIENTS.`);
    }
    return client;
  }
}
