import { Injectable } from '@nestjs/common';
import type { ConnectionCreated } from '@plugboard/contracts';
import type { ClientAuthMethod, ScopeDelimiter } from '@plugboard/oauth2';
import { EgressPolicy, type EgressFetch } from '@plugboard/outbound';
import { ServiceDefinitions } from '@plugboard/registry';

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
  /** Token URLs are a service owner's choice: the egress policy's fetch, never inside the deployment. */
  fetch: EgressFetch;
}

/** Long enough to spare a stampede thousands of identical look-ups, short enough that an edit is seen soon. */
const CACHE_TTL_MS = 10_000;

/** A connection's OAuth 2 client (see ServiceDefinitions), reduced to what refreshing needs and remembered for a few seconds. */
@Injectable()
export class OAuthSettingsResolver {
  private readonly cache = new Map<string, { until: number; settings: Promise<RefreshClientSettings> }>();

  constructor(
    private readonly services: ServiceDefinitions,
    private readonly egress: EgressPolicy,
  ) {}

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
    const o = await this.services.oauth2(orgId, { service: connection.service.linkName, serviceType: connection.service.type, parameters: connection.parameters });
    const refreshUrl = o.refreshUrl ?? o.tokenUrl;
    return {
      grantType: o.grantType,
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      clientAuth: o.clientAuth,
      tokenUrl: o.tokenUrl,
      refreshUrl,
      scopeDelimiter: o.scopeDelimiter,
      extraTokenParams: o.extraTokenParams,
      allowInsecureLocalhost: this.egress.allowsPlainHttp(o.tokenUrl, refreshUrl),
      fetch: this.egress.fetch,
    };
  }
}
