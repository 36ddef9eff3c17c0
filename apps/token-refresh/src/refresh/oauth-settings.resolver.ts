import { Inject, Injectable } from '@nestjs/common';
import { fillTemplate, findCatalogEntry } from '@plugboard/catalog';
import { DomainError, ErrorCodes, serviceStreamId, type ConnectionCreated } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import type { ClientAuthMethod, ScopeDelimiter } from '@plugboard/oauth2';
import { serviceDecider } from '@plugboard/registry-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';

/** What a refresh needs of a connection's OAuth 2 service (the client secret included: keep it in memory only). */
export interface RefreshClientSettings {
  grantType: 'authorization_code' | 'client_credentials';
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  /** The refresh URL when the service has one, else its token URL. */
  refreshUrl: string;
  tokenUrl: string;
  scopeDelimiter: ScopeDelimiter;
  extraTokenParams: Record<string, string>;
  /** Plain http, for hosts the operator allowed in PLUGBOARD_INVOKE_ALLOW_HOSTS (tests and benches on 127.0.0.1). */
  allowInsecureLocalhost: boolean;
}

/** Long enough to spare a stampede thousands of identical look-ups, short enough that an edit is seen soon. */
const CACHE_TTL_MS = 10_000;

/**
 * A connection's OAuth 2 client: a custom service's from its own stream (the registry's events are the contract)
 * and the vault, a predefined one's from the catalog and PLUGBOARD_PREDEFINED_CLIENTS. The same rules as the
 * connection app's ServiceAuthResolver (apps may not import each other), reduced to what refreshing needs.
 */
@Injectable()
export class OAuthSettingsResolver {
  private readonly predefinedClients: Record<string, { clientId: string; clientSecret: string }>;
  private readonly localHosts: string[];
  private readonly cache = new Map<string, { until: number; settings: Promise<RefreshClientSettings> }>();

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.predefinedClients = config.PLUGBOARD_PREDEFINED_CLIENTS ? JSON.parse(config.PLUGBOARD_PREDEFINED_CLIENTS) : {};
    this.localHosts = (config.PLUGBOARD_INVOKE_ALLOW_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  }

  resolve(orgId: string, connection: ConnectionCreated['data']): Promise<RefreshClientSettings> {
    const key = JSON.stringify([orgId, connection.service.type, connection.service.linkName, connection.parameters]);
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.settings;
    const settings = this.load(orgId, connection);
    this.cache.set(key, { until: now + CACHE_TTL_MS, settings });
    // A failed look-up is not remembered.
    settings.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return settings;
  }

  private async load(orgId: string, connection: ConnectionCreated['data']): Promise<RefreshClientSettings> {
    if (connection.service.type === 'predefined') {
      const entry = findCatalogEntry(connection.service.linkName);
      if (entry?.authType !== 'oauth2') throw new DomainError(ErrorCodes.serviceNotFound, `The predefined service "${connection.service.linkName}" is not an OAuth 2 service.`);
      const client = this.predefinedClients[connection.service.linkName];
      if (!client) {
        throw new DomainError(ErrorCodes.serviceNotConfigured, `This Plugboard has no OAuth client registered for ${entry.name}. Its operator can add one in PLUGBOARD_PREDEFINED_CLIENTS.`);
      }
      const fill = (url: string) => fillTemplate(url, entry.connectionParameters ?? [], connection.parameters);
      const tokenUrl = fill(entry.oauth2.accessTokenUrl);
      const refreshUrl = entry.oauth2.refreshTokenUrl ? fill(entry.oauth2.refreshTokenUrl) : tokenUrl;
      return {
        grantType: entry.oauth2.grantType,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        clientAuth: entry.oauth2.tokenEndpointAuth,
        tokenUrl,
        refreshUrl,
        scopeDelimiter: entry.oauth2.scopeDelimiter,
        extraTokenParams: { ...(entry.oauth2.extraTokenParams ?? {}) },
        allowInsecureLocalhost: this.insecureAllowed(tokenUrl, refreshUrl),
      };
    }
    const { state } = await this.store.aggregateStream(serviceStreamId(orgId, connection.service.linkName), serviceDecider);
    if (state.status !== 'active' || !state.service.oauth2) {
      throw new DomainError(ErrorCodes.serviceNotFound, `The OAuth 2 service "${connection.service.linkName}" of this connection no longer exists.`);
    }
    const oauth2 = state.service.oauth2;
    const clientSecret = await this.vault.get<string>(this.store.dataSource.manager, oauth2.clientSecretRef, orgId);
    if (clientSecret === null) throw new DomainError(ErrorCodes.serviceNotConfigured, `The client secret of the service "${connection.service.linkName}" is missing.`);
    const refreshUrl = oauth2.refreshTokenUrl ?? oauth2.accessTokenUrl;
    return {
      grantType: oauth2.grantType,
      clientId: oauth2.clientId,
      clientSecret,
      // RFC 6749 §2.3.1: every authorization server supports HTTP Basic for client authentication.
      clientAuth: 'client_secret_basic',
      tokenUrl: oauth2.accessTokenUrl,
      refreshUrl,
      scopeDelimiter: oauth2.scopeDelimiter,
      extraTokenParams: {},
      allowInsecureLocalhost: this.insecureAllowed(oauth2.accessTokenUrl, refreshUrl),
    };
  }

  /** Plain http only when every http URL is on a host the operator explicitly allowed, as the connection app does. */
  private insecureAllowed(...urls: string[]): boolean {
    const plain = urls.filter((url) => url.startsWith('http:'));
    return plain.length > 0 && plain.every((url) => URL.canParse(url) && this.localHosts.includes(new URL(url).hostname));
  }
}
