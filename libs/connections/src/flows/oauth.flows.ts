import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, invalidField, type Actor, type ConnectionView, type StoredCredential } from '@plugboard/contracts';
import { authorizeUrl as oauth1AuthorizeUrl, getAccessToken, getRequestToken, OAuth1Error } from '@plugboard/oauth1';
import { buildAuthorizationRequest, clientCredentials, exchangeCode, isOAuth2Error, parseAuthorizationResponse, type TokenSet } from '@plugboard/oauth2';
import { neededBeforeAuthorization, parametersFromAuthorization } from '@plugboard/catalog';
import { EventStore } from '@plugboard/event-store';
import { CALLBACK_PATHS, PLATFORM_CONFIG, publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';
import { oauth1SettingsOf, oauth2SettingsOf, ServiceDefinitions, type ResolvedService } from '@plugboard/registry';
import { egressDomainError, EgressPolicy } from '@plugboard/outbound';
import { ConnectionReader } from '../read-models/connection.reader';
import type { Grant } from './credential-recorder';

/** How long a user has to finish at the provider before the authorization expires. */
const PENDING_TTL_MS = 10 * 60 * 1000;

// The same paths the service views list in callbackUrls, for the provider's app registration.
const OAUTH2_CALLBACK_PATH = CALLBACK_PATHS.oauth2;
const OAUTH1_CALLBACK_PATH = CALLBACK_PATHS.oauth1;

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The result of a provider's redirect back to Plugboard. */
export type Completion =
  | {
      outcome: 'connected';
      actor: Actor;
      linkName: string;
      returnUrl: string | null;
      credential: StoredCredential;
      grant: Grant;
      /** The hash of the connect link that started the flow, if one did. */
      connectLink: string | null;
    }
  | { outcome: 'denied' | 'failed'; message: string; linkName: string | null; returnUrl: string | null; actor: Actor | null };

/** What binds a flow: the browser that started it (its cookie's hash) and, if one did, the connect link. */
export interface FlowBinding {
  browser: string;
  connectLink: string | null;
}

interface PendingRow {
  protocol: 'oauth1' | 'oauth2';
  org_id: string;
  user_id: string;
  link_name: string;
  secret_ref: string | null;
  redirect_uri: string;
  return_url: string | null;
  connect_link: string | null;
  expired: boolean;
}

/**
 * The OAuth authorization flows. Starting one records a single-use, expiring authorization bound to the org, user
 * and connection (keyed by a hash of the OAuth 2 `state` or OAuth 1.0a request token, its verifier or token secret
 * in the vault); the provider's redirect consumes it exactly once.
 */
@Injectable()
export class OAuthFlows {
  private readonly publicUrl: string;
  private readonly regionUrls: Record<string, string>;

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceDefinitions,
    private readonly reader: ConnectionReader,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    /** Token and request-token calls go to URLs a service's owner chose: under the egress policy, never inside the deployment. */
    private readonly egress: EgressPolicy,
  ) {
    this.publicUrl = publicUrlOf(config);
    this.regionUrls = config.PLUGBOARD_REGION_URLS ?? {};
  }

  /**
   * Where the provider sends the user back: the region's public URL (PLUGBOARD_REGION_URLS) when the request names
   * one, else PLUGBOARD_PUBLIC_URL. The URI is stored with the pending authorization and sent again, unchanged, with
   * the code exchange, where providers match it exactly.
   */
  private callbackUrl(path: string, region: string | null): string {
    if (region === null) return `${this.publicUrl}${path}`;
    const base = this.regionUrls[region];
    if (!base) {
      const known = Object.keys(this.regionUrls);
      throw invalidField('authorization.region', known.length > 0 ? `this Plugboard has no region "${region}" (it has ${known.join(', ')})` : `this Plugboard has no regions configured`);
    }
    return `${base}${path}`;
  }

  /** OAuth 2: the provider's page for an authorization code, or (client credentials) a token at once. */
  async startOAuth2(actor: Actor, connection: ConnectionView, service: ResolvedService, returnUrl: string | null, region: string | null, binding: FlowBinding | null): Promise<{ authorizeUrl: string } | { credential: StoredCredential; grant: Grant }> {
    const settings = oauth2SettingsOf(service);
    const allowInsecureLocalhost = this.egress.allowsPlainHttp(settings.tokenUrl);
    const redirectUri = this.callbackUrl(OAUTH2_CALLBACK_PATH, region);
    if (settings.grantType === 'client_credentials') {
      const tokens = await this.guard(() =>
        clientCredentials({ ...settings, scopes: connection.scopes, extraParams: settings.extraTokenParams, allowInsecureLocalhost, fetch: this.egress.fetch, timeoutMs: this.egress.timeouts.oauthMs }),
      );
      return { credential: { kind: 'oauth2', ...pickTokens(tokens) }, grant: { scopes: tokens.scopes ?? connection.scopes, expiresAt: tokens.expiresAt } };
    }
    if (!settings.authorizeUrl) throw new DomainError(ErrorCodes.serviceNotConfigured, 'This service has no authorize URL, so it cannot be authorized with an authorization code.');
    const bound = requireBinding(binding);
    const request = await buildAuthorizationRequest({
      authorizeUrl: settings.authorizeUrl,
      clientId: settings.clientId,
      redirectUri,
      scopes: connection.scopes,
      scopeDelimiter: settings.scopeDelimiter,
      pkce: settings.pkce,
      extraParams: settings.extraAuthorizeParams,
      allowInsecureLocalhost: this.egress.allowsPlainHttp(settings.authorizeUrl),
    });
    await this.remember('oauth2', request.state, actor, connection.linkName, redirectUri, returnUrl, request.codeVerifier ? { codeVerifier: request.codeVerifier } : null, bound);
    return { authorizeUrl: request.url };
  }

  /** OAuth 1.0a: a request token, then the provider's page to approve it. */
  async startOAuth1(actor: Actor, connection: ConnectionView, service: ResolvedService, returnUrl: string | null, region: string | null, binding: FlowBinding | null): Promise<{ authorizeUrl: string }> {
    const bound = requireBinding(binding);
    const redirectUri = this.callbackUrl(OAUTH1_CALLBACK_PATH, region);
    const settings = oauth1SettingsOf(service);
    const consumer = { key: settings.consumerKey, secret: settings.consumerSecret };
    const requestToken = await this.guard(() => getRequestToken({ requestTokenUrl: settings.requestTokenUrl, consumer, callbackUrl: redirectUri, signatureMethod: settings.signatureMethod, fetch: this.egress.fetch, timeoutMs: this.egress.timeouts.oauthMs }));
    await this.remember('oauth1', requestToken.token, actor, connection.linkName, redirectUri, returnUrl, { token: requestToken.token, tokenSecret: requestToken.tokenSecret }, bound);
    return { authorizeUrl: oauth1AuthorizeUrl(settings.authorizeUrl, requestToken.token, settings.extraAuthorizeParams) };
  }

  /**
   * Consumes the authorization the provider's redirect names and, when the user approved, fetches the tokens. Only
   * the browser that started it (`browser`: its binding cookie's hash) may: a redirect arriving in any other browser
   * (a link someone was sent, a code someone intercepted) finds nothing and uses nothing up.
   */
  async complete(protocol: 'oauth1' | 'oauth2', params: Record<string, string>, browser: string | null): Promise<Completion> {
    const key = protocol === 'oauth2' ? params.state : (params.oauth_token ?? params.denied);
    const unknown: Completion = {
      outcome: 'failed',
      message: 'This authorization is unknown, expired or already used, or it was started in another browser. Start it again from Plugboard, in this browser.',
      linkName: null,
      returnUrl: null,
      actor: null,
    };
    if (!key || !browser) return unknown;
    const [rows] = await this.store.dataSource.query(
      `UPDATE oauth_authorizations SET used_at = now() WHERE key_hash = $1 AND protocol = $2 AND used_at IS NULL AND browser_hash = $3
       RETURNING protocol, org_id, user_id, link_name, secret_ref, redirect_uri, return_url, connect_link, expires_at < now() AS expired`,
      [hash(key), protocol, browser],
    );
    const row = (rows as PendingRow[])[0];
    if (!row) return unknown;
    const actor = { orgId: row.org_id, userId: row.user_id };
    const pending = row.secret_ref ? await this.vault.get<Record<string, string>>(this.store.dataSource.manager, row.secret_ref, row.org_id) : null;
    if (row.secret_ref) await this.vault.erase(this.store.dataSource.manager, row.secret_ref, row.org_id);
    const base = { linkName: row.link_name, returnUrl: row.return_url, actor };
    if (row.expired) return { outcome: 'failed', message: 'This authorization expired. Start it again from Plugboard.', ...base };
    if (params.error === 'access_denied' || params.denied) return { outcome: 'denied', message: 'The authorization was denied at the provider. Nothing was changed.', ...base };
    try {
      const connection = await this.reader.get(actor.orgId, row.link_name, actor.userId);
      const service = await this.services.get(actor.orgId, connection);
      if (protocol === 'oauth2') {
        const settings = oauth2SettingsOf(service);
        const { code } = parseAuthorizationResponse({ callback: new URLSearchParams(params), expectedState: key });
        const tokens = await exchangeCode({
          ...settings,
          redirectUri: row.redirect_uri,
          code,
          codeVerifier: pending?.codeVerifier ?? null,
          extraParams: settings.extraTokenParams,
          allowInsecureLocalhost: this.egress.allowsPlainHttp(settings.tokenUrl),
          fetch: this.egress.fetch,
          timeoutMs: this.egress.timeouts.oauthMs,
        });
        return { outcome: 'connected', ...base, connectLink: row.connect_link, credential: { kind: 'oauth2', ...pickTokens(tokens) }, grant: { scopes: tokens.scopes ?? connection.scopes, expiresAt: tokens.expiresAt, parameters: this.learned(connection, service, tokens, params) } };
      }
      const settings = oauth1SettingsOf(service);
      const access = await getAccessToken({
        accessTokenUrl: settings.accessTokenUrl,
        consumer: { key: settings.consumerKey, secret: settings.consumerSecret },
        requestToken: { key: pending?.token ?? key, secret: pending?.tokenSecret ?? '' },
        verifier: params.oauth_verifier ?? '',
        signatureMethod: settings.signatureMethod,
        fetch: this.egress.fetch,
        timeoutMs: this.egress.timeouts.oauthMs,
      });
      return { outcome: 'connected', ...base, connectLink: row.connect_link, credential: { kind: 'oauth1', token: access.token, tokenSecret: access.tokenSecret }, grant: { scopes: null, expiresAt: null } };
    } catch (error) {
      if (isOAuth2Error(error) && error.kind === 'access_denied') return { outcome: 'denied', message: 'The authorization was denied at the provider. Nothing was changed.', ...base };
      // The protocol libraries keep secrets out of their messages; the provider's own words help the user.
      return { outcome: 'failed', message: `The provider did not complete the authorization: ${error instanceof Error ? error.message : 'unknown error'}. Nothing was changed.`, ...base };
    }
  }

  /**
   * What a predefined service's provider gave with this authorization (Salesforce's instance, QuickBooks' realm id…),
   * as its catalog entry declares, each value checked against the entry's patterns and hosts first; a value that
   * fails throws, and the authorization fails with it. A value the connection was created with is compared only where
   * an OAuth URL needed it; the others are the provider's to give.
   */
  private learned(connection: ConnectionView, service: ResolvedService, tokens: TokenSet, callback: Record<string, string>): Record<string, string> | undefined {
    const { entry } = service;
    if (!entry) return undefined;
    const given = Object.fromEntries((entry.connectionParameters ?? []).filter((p) => !p.source || neededBeforeAuthorization(entry, p)).flatMap((p) => (connection.parameters[p.name] === undefined ? [] : [[p.name, connection.parameters[p.name]]])));
    return parametersFromAuthorization(entry, { tokenResponse: tokens.raw, callback }, given);
  }

  private async remember(
    protocol: 'oauth1' | 'oauth2',
    key: string,
    actor: Actor,
    linkName: string,
    redirectUri: string,
    returnUrl: string | null,
    secret: Record<string, string> | null,
    binding: FlowBinding,
  ): Promise<void> {
    await this.store.dataSource.transaction(async (manager) => {
      const secretRef = secret ? randomUUID() : null;
      if (secret && secretRef) await this.vault.put(manager, { id: secretRef, orgId: actor.orgId, purpose: `oauth.pending.${linkName}`, value: secret });
      const inserted: unknown[] = await manager.query(
        `INSERT INTO oauth_authorizations (key_hash, protocol, org_id, user_id, link_name, secret_ref, redirect_uri, return_url, expires_at, browser_hash, connect_link)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (key_hash) DO NOTHING RETURNING key_hash`,
        [hash(key), protocol, actor.orgId, actor.userId, linkName, secretRef, redirectUri, returnUrl, new Date(Date.now() + PENDING_TTL_MS), binding.browser, binding.connectLink],
      );
      // A provider that hands out a request token it issued before: the earlier authorization owns that key, and the
      // callback could not tell the two apart. Refused (the transaction, vault entry included, is rolled back).
      if (inserted.length === 0) {
        throw new DomainError(ErrorCodes.authorizationFailed, 'The provider issued a request token it had already issued for an earlier authorization, so this one cannot be told apart from it. Try again; if it keeps happening, the provider reuses request tokens.');
      }
    });
  }

  /** A provider's refusal while starting becomes `authorization_failed` with the provider's words (no secrets). */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const refused = addressRefusal(error);
      if (refused) throw refused;
      throw new DomainError(ErrorCodes.authorizationFailed, `The provider refused the authorization: ${error instanceof Error ? error.message : 'unknown error'}.`);
    }
  }
}

/**
 * A flow through the provider's page must be bound to the browser that starts it: without one (a call over the bus
 * with no browser behind it) the callback could be completed by anyone the URL reaches. Such callers hand the user a
 * connect link instead, which binds the browser that opens it.
 */
function requireBinding(binding: FlowBinding | null): FlowBinding {
  if (binding) return binding;
  throw new DomainError(
    ErrorCodes.validationFailed,
    'This authorization goes through the provider’s page, so it must start in the browser that will complete it (through the gateway, which binds it with a cookie). From a server, create a connect link (POST /v1/connect-links) and hand it to the user.',
  );
}

/** The egress policy's refusal, as the protocol libraries report it, as `private_address` / `host_not_allowed`. */
function addressRefusal(error: unknown): DomainError | null {
  if (error instanceof OAuth1Error && error.code === 'address_refused') return egressDomainError({ code: 'EPRIVATE', message: `The provider's address is refused (${error.message}).` });
  if (isOAuth2Error(error) && (error.code === 'PRIVATE_ADDRESS' || error.code === 'INSECURE_URL')) {
    return egressDomainError({ code: error.code === 'PRIVATE_ADDRESS' ? 'EPRIVATE' : 'EINSECURE', message: `The provider's address is refused (${error.message}).` });
  }
  return null;
}

function pickTokens(tokens: { accessToken: string; refreshToken: string | null; tokenType: string; expiresAt: string | null; scopes: string[] | null }) {
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenType: tokens.tokenType, expiresAt: tokens.expiresAt, scopes: tokens.scopes };
}
