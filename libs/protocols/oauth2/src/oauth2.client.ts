// OAuth 2 client steps for provider connections, on top of oauth4webapi (RFC 6749 / 7636 / 7009 / 9207).
//
// Providers are described by their endpoint URLs only (many, like GitHub, publish no discovery document), so
// every call builds an oauth4webapi `AuthorizationServer` object by hand and uses its plain OAuth 2 (non-OIDC)
// functions. oauth4webapi does the protocol: PKCE, state, client authentication, request encoding, response
// validation. This module adds the policy around it: URL rules, timeouts, the TokenSet shape and the error
// classification (see oauth2.error.ts).
import * as oauth from 'oauth4webapi';

import { OAuth2Error, OAuth2ErrorKind, OAuth2Operation } from './oauth2.error';
import { parseRetryAfter } from '@plugboard/outbound';

export type ScopeDelimiter = 'comma' | 'space' | 'plus';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A fetch-compatible function (for tests or a proxying agent). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Options every network call accepts. */
export interface OAuth2CallOptions {
  /**
   * The authorization server's issuer identifier, when known. When set, the `iss` authorization response
   * parameter (RFC 9207) and any ID token in a token response are checked against it by oauth4webapi. When
   * not set, `iss` is not checked and an ID token is passed through unverified in `TokenSet.idToken`.
   */
  issuer?: string;
  /** Allow `http:` endpoints on loopback hosts (127.0.0.1, ::1, localhost). For tests only. Default false. */
  allowInsecureLocalhost?: boolean;
  /** Timeout of every HTTP request, response body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** Clock used to compute `expiresAt` and `Retry-After` dates. Default `() => new Date()`. */
  now?: () => Date;
  /** Replaces the global fetch. */
  fetch?: FetchLike;
}

export interface ClientCredentialsInput {
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
}

export interface TokenSet {
  accessToken: string;
  /** Null when the server issued none. */
  refreshToken: string | null;
  /** Lowercased by oauth4webapi (`bearer`, `dpop`). */
  tokenType: string;
  /** ISO 8601, `now() + expires_in`; null when the response has no `expires_in`. */
  expiresAt: string | null;
  /** The granted scopes from the response's `scope`, split on spaces, commas or `+`; null when absent. */
  scopes: string[] | null;
  /** The ID token, when the server sent one (verified only when `issuer` was given). */
  idToken: string | null;
  /** Every other response field (token_type, expires_in, scope, provider extras), without any token. */
  raw: Record<string, JsonValue>;
}

export interface RefreshedTokenSet extends TokenSet {
  /** The new refresh token when the server rotated it, else the one that was presented. */
  refreshToken: string;
  /** True when the response carried a refresh token different from the presented one. */
  refreshTokenRotated: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Authorization request

export interface AuthorizationRequestInput {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  scopeDelimiter: ScopeDelimiter;
  pkce: boolean;
  /** Provider-specific parameters (`access_type`, `prompt`, `audience`...). They cannot replace the ones built here. */
  extraParams?: Record<string, string>;
  allowInsecureLocalhost?: boolean;
}

export interface AuthorizationRequest {
  url: string;
  /** 256 random bits, base64url (43 characters). Store it and compare it on the callback. */
  state: string;
  /** The PKCE verifier (43 characters) to send with the code exchange; null when `pkce` is false. */
  codeVerifier: string | null;
}

const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

/**
 * The scope parameter as sent in the authorization URL's query. Each scope is percent-encoded
 * (`encodeURIComponent`) and the scopes are joined with:
 * - `space`: `%20`          → `scope=openid%20api%3Aread`
 * - `plus`:  a literal `+`  → `scope=openid+api%3Aread`
 * - `comma`: a literal `,`  → `scope=openid,api%3Aread`
 * Form-decoding servers read both `%20` and `+` as a space, so `space` and `plus` carry the same list (`plus`
 * exists for providers documented as "plus-separated", which is what a browser form sends); a `+` inside a
 * scope would be `%2B` and is refused, as is the delimiter or whitespace inside a scope.
 */
export const AUTHORIZATION_SCOPE_SEPARATOR: Readonly<Record<ScopeDelimiter, string>> = { space: '%20', plus: '+', comma: ',' };

/** The scope parameter value (before form encoding) for token endpoint requests: `plus` and `space` both join with a space (sent as `+`). */
const TOKEN_SCOPE_SEPARATOR: Readonly<Record<ScopeDelimiter, string>> = { space: ' ', plus: ' ', comma: ',' };

export async function buildAuthorizationRequest(input: AuthorizationRequestInput): Promise<AuthorizationRequest> {
  const operation: OAuth2Operation = 'buildAuthorizationRequest';
  const url = checkUrl(input.authorizeUrl, 'authorizeUrl', input.allowInsecureLocalhost, operation);
  requireString(input.clientId, 'clientId', operation);
  requireString(input.redirectUri, 'redirectUri', operation);
  const scopeParam = encodeAuthorizationScopes(input.scopes, input.scopeDelimiter, operation);

  const state = oauth.generateRandomState();
  const codeVerifier = input.pkce ? oauth.generateRandomCodeVerifier() : null;

  const params = url.searchParams;
  for (const [name, value] of Object.entries(input.extraParams ?? {})) {
    if (RESERVED_AUTHORIZATION_PARAMS.has(name)) {
      throw inputError(operation, `extraParams may not set "${name}"`);
    }
    params.set(name, value);
  }
  params.set('response_type', 'code');
  params.set('client_id', input.clientId);
  params.set('redirect_uri', input.redirectUri);
  params.set('state', state);
  if (codeVerifier) {
    params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    params.set('code_challenge_method', 'S256');
  }
  params.delete('scope');
  let search = params.toString();
  if (scopeParam !== null) search += `${search ? '&' : ''}scope=${scopeParam}`;
  url.search = search;
  return { url: url.href, state, codeVerifier };
}

function encodeAuthorizationScopes(scopes: string[], delimiter: ScopeDelimiter, operation: OAuth2Operation): string | null {
  if (!(delimiter in AUTHORIZATION_SCOPE_SEPARATOR)) throw inputError(operation, 'scopeDelimiter must be comma, space or plus');
  validateScopes(scopes, delimiter, operation);
  if (scopes.length === 0) return null;
  return scopes.map((scope) => encodeURIComponent(scope)).join(AUTHORIZATION_SCOPE_SEPARATOR[delimiter]);
}

function validateScopes(scopes: string[], delimiter: ScopeDelimiter, operation: OAuth2Operation): void {
  if (!Array.isArray(scopes)) throw inputError(operation, 'scopes must be an array');
  const forbidden = delimiter === 'comma' ? /[\s,]/ : delimiter === 'plus' ? /[\s+]/ : /\s/;
  for (const scope of scopes) {
    if (typeof scope !== 'string' || scope.length === 0 || forbidden.test(scope)) {
      throw inputError(operation, `a scope is empty or contains whitespace or the ${delimiter} delimiter`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Authorization response (the redirect back to redirectUri)

export interface AuthorizationResponseInput {
  /** The full callback URL, or its query parameters. */
  callback: string | URL | URLSearchParams;
  /** The `state` returned by buildAuthorizationRequest. */
  expectedState: string;
  issuer?: string;
}

/**
 * Validates the callback (state, `iss` when `issuer` is known, a single `code`) with oauth4webapi and returns
 * the code. An `error=` callback throws OAuth2Error: `access_denied` → kind access_denied,
 * `temporarily_unavailable` / `server_error` → transient, `unauthorized_client` → unauthorized_client, else protocol.
 */
export function parseAuthorizationResponse(input: AuthorizationResponseInput): { code: string } {
  const operation: OAuth2Operation = 'parseAuthorizationResponse';
  const secrets: string[] = [];
  try {
    requireString(input.expectedState, 'expectedState', operation);
    const params = new URLSearchParams(
      input.callback instanceof URLSearchParams
        ? input.callback
        : new URL(typeof input.callback === 'string' ? input.callback : input.callback.href).searchParams,
    );
    const code = params.get('code');
    if (code) secrets.push(code);
    if (!input.issuer) params.delete('iss');
    const as: oauth.AuthorizationServer = { issuer: input.issuer ?? 'urn:plugboard:unknown-issuer' };
    const validated = oauth.validateAuthResponse(as, { client_id: 'unused' }, params, input.expectedState);
    const validatedCode = validated.get('code');
    if (!validatedCode) throw inputError(operation, 'the authorization response has no code');
    return { code: validatedCode };
  } catch (err) {
    throw toOAuth2ErrorSync(err, operation, secrets);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Token endpoint

export interface ExchangeCodeInput extends ClientCredentialsInput, OAuth2CallOptions {
  tokenUrl: string;
  redirectUri: string;
  code: string;
  /** The verifier from buildAuthorizationRequest; null when the request was made without PKCE. */
  codeVerifier: string | null;
  /** Extra token request body parameters (they cannot replace the standard ones). */
  extraParams?: Record<string, string>;
}

export async function exchangeCode(input: ExchangeCodeInput): Promise<TokenSet> {
  const operation: OAuth2Operation = 'exchangeCode';
  const secrets = [input.clientSecret, input.code, input.codeVerifier];
  return run(operation, input, secrets, async (ctx) => {
    requireString(input.code, 'code', operation);
    requireString(input.redirectUri, 'redirectUri', operation);
    const as = ctx.server({ token_endpoint: input.tokenUrl });
    const client = clientOf(input);
    // authorizationCodeGrantRequest takes the validated callback parameters; the callback was validated by
    // the caller (parseAuthorizationResponse or its own state check), so only the code is re-branded here.
    const callback = oauth.validateAuthResponse(as, client, new URLSearchParams({ code: input.code }), oauth.expectNoState);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuthentication(input, operation),
      callback,
      input.redirectUri,
      input.codeVerifier ?? oauth.nopkce,
      { ...ctx.http, additionalParameters: extraParameters(input.extraParams, operation) },
    );
    const body = await oauth.processAuthorizationCodeResponse(as, client, response);
    return toTokenSet(body, ctx);
  });
}

export interface ClientCredentialsGrantInput extends ClientCredentialsInput, OAuth2CallOptions {
  tokenUrl: string;
  scopes?: string[];
  /** How `scopes` are joined in the form body: `space` and `plus` send `a+b` (a form-encoded space), `comma` sends `a%2Cb`. Default space. */
  scopeDelimiter?: ScopeDelimiter;
  extraParams?: Record<string, string>;
}

export async function clientCredentials(input: ClientCredentialsGrantInput): Promise<TokenSet> {
  const operation: OAuth2Operation = 'clientCredentials';
  return run(operation, input, [input.clientSecret], async (ctx) => {
    const as = ctx.server({ token_endpoint: input.tokenUrl });
    const client = clientOf(input);
    const delimiter = input.scopeDelimiter ?? 'space';
    const parameters = new URLSearchParams(extraParameters(input.extraParams, operation));
    if (input.scopes && input.scopes.length > 0) {
      validateScopes(input.scopes, delimiter, operation);
      parameters.set('scope', input.scopes.join(TOKEN_SCOPE_SEPARATOR[delimiter]));
    }
    const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuthentication(input, operation), parameters, ctx.http);
    const body = await oauth.processClientCredentialsResponse(as, client, response);
    return toTokenSet(body, ctx);
  });
}

export interface RefreshInput extends ClientCredentialsInput, OAuth2CallOptions {
  tokenUrl: string;
  refreshToken: string;
  extraParams?: Record<string, string>;
}

export async function refresh(input: RefreshInput): Promise<RefreshedTokenSet> {
  const operation: OAuth2Operation = 'refresh';
  return run(operation, input, [input.clientSecret, input.refreshToken], async (ctx) => {
    requireString(input.refreshToken, 'refreshToken', operation);
    const as = ctx.server({ token_endpoint: input.tokenUrl });
    const client = clientOf(input);
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuthentication(input, operation), input.refreshToken, {
      ...ctx.http,
      additionalParameters: extraParameters(input.extraParams, operation),
    });
    const body = await oauth.processRefreshTokenResponse(as, client, response);
    const tokens = toTokenSet(body, ctx);
    const rotated = tokens.refreshToken !== null && tokens.refreshToken !== input.refreshToken;
    return { ...tokens, refreshToken: tokens.refreshToken ?? input.refreshToken, refreshTokenRotated: rotated };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Revocation (RFC 7009)

export interface RevokeInput extends ClientCredentialsInput, OAuth2CallOptions {
  revokeUrl: string;
  token: string;
  tokenTypeHint?: 'access_token' | 'refresh_token';
}

/** Resolves when the server accepted the revocation (RFC 7009: also for unknown or already revoked tokens). */
export async function revoke(input: RevokeInput): Promise<void> {
  const operation: OAuth2Operation = 'revoke';
  await run(operation, input, [input.clientSecret, input.token], async (ctx) => {
    requireString(input.token, 'token', operation);
    const as = ctx.server({ revocation_endpoint: input.revokeUrl });
    const additionalParameters: Record<string, string> = input.tokenTypeHint ? { token_type_hint: input.tokenTypeHint } : {};
    const response = await oauth.revocationRequest(as, clientOf(input), clientAuthentication(input, operation), input.token, {
      ...ctx.http,
      additionalParameters,
    });
    // RFC 7009 says 200; some providers answer 204 No Content, which is just as much a success.
    if (response.status === 204) return;
    await oauth.processRevocationResponse(response);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Plumbing

const DEFAULT_TIMEOUT_MS = 10_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

interface CallContext {
  operation: OAuth2Operation;
  now: () => Date;
  /** oauth4webapi request options: timeout, http allowance, the fetch wrapper. */
  http: {
    signal: () => AbortSignal;
    [oauth.allowInsecureRequests]: boolean;
    [oauth.customFetch]: FetchLike;
  };
  /** An authorization server object for the given endpoints, after the URL rules were checked. */
  server(endpoints: Partial<Pick<oauth.AuthorizationServer, 'token_endpoint' | 'revocation_endpoint'>>): oauth.AuthorizationServer;
  /** An ID token the fetch wrapper took out of a token response because no issuer was given to verify it. */
  unverifiedIdToken: string | null;
}

async function run<T>(
  operation: OAuth2Operation,
  options: OAuth2CallOptions,
  secrets: Array<string | null | undefined>,
  body: (ctx: CallContext) => Promise<T>,
): Promise<T> {
  const now = options.now ?? (() => new Date());
  try {
    const ctx = callContext(operation, options, now);
    return await body(ctx);
  } catch (err) {
    throw await toOAuth2Error(err, operation, secrets, now);
  }
}

function callContext(operation: OAuth2Operation, options: OAuth2CallOptions, now: () => Date): CallContext {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw inputError(operation, 'timeoutMs must be a positive number');
  if (options.issuer !== undefined) checkUrl(options.issuer, 'issuer', options.allowInsecureLocalhost, operation);
  const baseFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const verifyIdToken = options.issuer !== undefined;

  const ctx: CallContext = {
    operation,
    now,
    unverifiedIdToken: null,
    http: {
      signal: () => AbortSignal.timeout(timeoutMs),
      [oauth.allowInsecureRequests]: options.allowInsecureLocalhost === true,
      [oauth.customFetch]: async (url, init) => {
        const response = await baseFetch(url, init);
        if (verifyIdToken) return response;
        return withoutIdToken(response, (idToken) => (ctx.unverifiedIdToken = idToken));
      },
    },
    server(endpoints) {
      let fallbackIssuer: string | undefined;
      for (const [name, value] of Object.entries(endpoints)) {
        if (typeof value !== 'string') throw inputError(operation, `${name} is required`);
        fallbackIssuer ??= checkUrl(value, name, options.allowInsecureLocalhost, operation).origin;
      }
      return { issuer: options.issuer ?? fallbackIssuer ?? 'urn:plugboard:unknown-issuer', ...endpoints };
    },
  };
  return ctx;
}

/**
 * oauth4webapi validates an ID token found in a token response against `as.issuer` (OIDC Core 3.1.3.7). A
 * provider's issuer is often unknown to a connection (only endpoint URLs are configured) and its token endpoint
 * host is not its issuer (Google), so without an `issuer` the ID token is taken out before oauth4webapi sees
 * the response and handed back unverified instead of failing the whole exchange.
 */
async function withoutIdToken(response: Response, keep: (idToken: string) => void): Promise<Response> {
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').toLowerCase().includes('json')) return response;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch (err) {
    // Not JSON: oauth4webapi reports it. A body cut off (timeout, dropped connection) is rethrown as is.
    if (isRecord(err) && err.name === 'SyntaxError') return response;
    throw err;
  }
  if (!isRecord(body) || !('id_token' in body)) return response;
  const { id_token: idToken, ...rest } = body;
  if (typeof idToken === 'string') keep(idToken);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  return new Response(JSON.stringify(rest), { status: response.status, statusText: response.statusText, headers });
}

function checkUrl(value: string, label: string, allowInsecureLocalhost: boolean | undefined, operation: OAuth2Operation): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw inputError(operation, `${label} is not a valid URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowInsecureLocalhost === true && LOOPBACK_HOSTS.has(url.hostname)) return url;
  throw inputError(
    operation,
    url.protocol === 'http:' ? `${label} must use https (http is allowed only on loopback hosts with allowInsecureLocalhost)` : `${label} must use https`,
  );
}

function clientOf(input: ClientCredentialsInput): oauth.Client {
  return { client_id: input.clientId };
}

function clientAuthentication(input: ClientCredentialsInput, operation: OAuth2Operation): oauth.ClientAuth {
  requireString(input.clientId, 'clientId', operation);
  requireString(input.clientSecret, 'clientSecret', operation);
  switch (input.clientAuth) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(input.clientSecret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(input.clientSecret);
    default:
      throw inputError(operation, 'clientAuth must be client_secret_basic or client_secret_post');
  }
}

function extraParameters(extra: Record<string, string> | undefined, operation: OAuth2Operation): Record<string, string> {
  const reserved = new Set(['grant_type', 'code', 'code_verifier', 'redirect_uri', 'refresh_token', 'client_id', 'client_secret', 'scope']);
  for (const name of Object.keys(extra ?? {})) {
    if (reserved.has(name)) throw inputError(operation, `extraParams may not set "${name}"`);
  }
  return { ...(extra ?? {}) };
}

function requireString(value: unknown, label: string, operation: OAuth2Operation): void {
  if (typeof value !== 'string' || value.length === 0) throw inputError(operation, `${label} must be a non-empty string`);
}

function inputError(operation: OAuth2Operation, detail: string): OAuth2Error {
  return new OAuth2Error({ kind: 'protocol', operation, code: 'INVALID_INPUT', detail });
}

const TOKEN_FIELDS = new Set(['access_token', 'refresh_token', 'id_token']);

function toTokenSet(body: oauth.TokenEndpointResponse, ctx: CallContext): TokenSet {
  const raw: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!TOKEN_FIELDS.has(key) && value !== undefined) raw[key] = value as JsonValue;
  }
  const expiresAt = typeof body.expires_in === 'number' ? new Date(ctx.now().getTime() + body.expires_in * 1000).toISOString() : null;
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? null,
    tokenType: body.token_type,
    expiresAt,
    scopes: typeof body.scope === 'string' ? parseScopes(body.scope) : null,
    idToken: body.id_token ?? ctx.unverifiedIdToken,
    raw,
  };
}

/** Splits a granted `scope` value on spaces, commas or plus signs (providers use all three). */
export function parseScopes(scope: string): string[] {
  return scope.split(/[\s,+]+/).filter((s) => s.length > 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Error classification

const KIND_BY_ERROR_CODE: Readonly<Record<string, OAuth2ErrorKind>> = {
  invalid_grant: 'invalid_grant',
  invalid_client: 'invalid_client',
  unauthorized_client: 'unauthorized_client',
  access_denied: 'access_denied',
  temporarily_unavailable: 'transient',
  server_error: 'transient',
  slow_down: 'transient',
  // GitHub answers token requests with HTTP 200 and these codes.
  bad_verification_code: 'invalid_grant',
  bad_refresh_token: 'invalid_grant',
  incorrect_client_credentials: 'invalid_client',
};

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

interface Classified {
  kind?: OAuth2ErrorKind;
  error?: string | null;
  errorDescription?: string | null;
  status?: number | null;
  headers?: Headers | null;
  code?: string | null;
  detail?: string;
}

async function toOAuth2Error(err: unknown, operation: OAuth2Operation, secrets: Array<string | null | undefined>, now: () => Date): Promise<OAuth2Error> {
  if (err instanceof OAuth2Error) return err;
  return build(await classify(err), operation, secrets, now);
}

function toOAuth2ErrorSync(err: unknown, operation: OAuth2Operation, secrets: string[]): OAuth2Error {
  if (err instanceof OAuth2Error) return err;
  return build(classifyLocal(err), operation, secrets, () => new Date());
}

function build(c: Classified, operation: OAuth2Operation, secrets: Array<string | null | undefined>, now: () => Date): OAuth2Error {
  const status = c.status ?? null;
  const errorCode = c.error ?? null;
  let kind: OAuth2ErrorKind;
  if (c.kind) kind = c.kind;
  else if (status !== null && (status === 429 || status >= 500)) kind = 'transient';
  else if (errorCode !== null && KIND_BY_ERROR_CODE[errorCode]) kind = KIND_BY_ERROR_CODE[errorCode];
  else if (status === 401) kind = 'invalid_client';
  else kind = 'protocol';

  const retryAfterMs = kind === 'transient' && c.headers ? parseRetryAfter(c.headers.get('retry-after'), now().getTime()) : null;
  const redact = redactor(secrets);
  return new OAuth2Error({
    kind,
    operation,
    error: errorCode === null ? null : redact(errorCode),
    errorDescription: c.errorDescription == null ? null : redact(c.errorDescription),
    status,
    retryAfterMs,
    code: c.code == null ? null : redact(c.code),
    detail: c.detail === undefined ? undefined : redact(c.detail),
  });
}

async function classify(err: unknown): Promise<Classified> {
  if (err instanceof oauth.ResponseBodyError) {
    return { error: err.error, errorDescription: err.error_description ?? null, status: err.status, headers: err.response.headers, code: err.code };
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // The body was left unread by oauth4webapi; it normally repeats the error as JSON.
    const fromBody = await readErrorBody(err.response);
    const challenge = err.cause.find((c) => typeof c.parameters.error === 'string') ?? err.cause[0];
    return {
      error: fromBody.error ?? challenge?.parameters.error ?? null,
      errorDescription: fromBody.errorDescription ?? challenge?.parameters.error_description ?? null,
      status: err.status,
      headers: err.response.headers,
      code: err.code,
    };
  }
  if (err instanceof oauth.OperationProcessingError) {
    const cause: unknown = err.cause;
    if (isResponse(cause)) {
      // Unexpected status (5xx, 429, a redirect) or a non-JSON 4xx error body.
      const fromBody = await readErrorBody(cause);
      return { ...fromBody, status: cause.status, headers: cause.headers, code: err.code ?? null, detail: err.message };
    }
    if (err.code === oauth.INVALID_RESPONSE && isRecord(cause) && isRecord(cause.body) && typeof cause.body.error === 'string') {
      // An error inside a 200 response (GitHub).
      const description = cause.body.error_description;
      return { error: cause.body.error, errorDescription: typeof description === 'string' ? description : null, status: 200, code: err.code };
    }
    // A body cut off by the timeout or a dropped connection surfaces as a parse error.
    const interrupted = transportFailure(cause);
    if (interrupted) return interrupted;
    return { kind: 'protocol', code: err.code ?? null, detail: err.message };
  }
  return classifyLocal(err);
}

function classifyLocal(err: unknown): Classified {
  if (err instanceof oauth.AuthorizationResponseError) {
    return { error: err.error, errorDescription: err.error_description ?? null, code: err.code };
  }
  if (err instanceof oauth.OperationProcessingError) {
    return { kind: 'protocol', code: err.code ?? null, detail: err.message };
  }
  if (err instanceof oauth.UnsupportedOperationError) {
    return { kind: 'protocol', code: err.code, detail: err.message };
  }
  const transport = transportFailure(err);
  if (transport) return transport;
  if (isRecord(err) && typeof err.code === 'string' && err.code.startsWith('ERR_INVALID_ARG')) {
    // oauth4webapi's argument checks; their messages name the argument, never its value.
    return { kind: 'protocol', code: 'INVALID_INPUT', detail: typeof err.message === 'string' ? err.message : undefined };
  }
  // A caller's fetch that refuses the address (the egress policy of @plugboard/outbound): its message names the host only.
  if (isRecord(err) && err.code === 'EPRIVATE' && typeof err.message === 'string') return { kind: 'protocol', code: 'PRIVATE_ADDRESS', detail: err.message };
  if (isRecord(err) && err.code === 'EINSECURE' && typeof err.message === 'string') return { kind: 'protocol', code: 'INSECURE_URL', detail: err.message };
  return { kind: 'protocol', code: 'UNEXPECTED', detail: err instanceof Error ? err.name : undefined };
}

/** Timeouts, aborts and network failures (errors cross jest's vm realms, so names are compared, not classes). */
function transportFailure(err: unknown): Classified | undefined {
  if (!isRecord(err)) return undefined;
  if (err.name === 'TimeoutError') return { kind: 'transient', code: 'TIMEOUT', detail: 'the request timed out' };
  if (err.name === 'AbortError') return { kind: 'transient', code: 'ABORTED', detail: 'the request was aborted' };
  const networkCode = networkErrorCode(err);
  if (networkCode !== undefined) return { kind: 'transient', code: networkCode, detail: 'network error' };
  return undefined;
}

/** undici's fetch fails with TypeError('fetch failed' | 'terminated') and the socket error as cause. */
function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && isRecord(current); depth++) {
    const code = current.code;
    if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || code.startsWith('UND_ERR'))) return code;
    if (current.name === 'TimeoutError') return 'TIMEOUT';
    current = current.cause;
  }
  if (isRecord(err) && err.name === 'TypeError' && (err.message === 'fetch failed' || err.message === 'terminated')) return 'NETWORK';
  return undefined;
}

async function readErrorBody(response: Response): Promise<{ error?: string; errorDescription?: string }> {
  if (response.bodyUsed) return {};
  try {
    const text = await response.text();
    const json: unknown = JSON.parse(text);
    if (!isRecord(json) || typeof json.error !== 'string') return {};
    return { error: json.error, errorDescription: typeof json.error_description === 'string' ? json.error_description : undefined };
  } catch {
    return {};
  }
}

function redactor(secrets: Array<string | null | undefined>): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < 4) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((out, needle) => out.split(needle).join('[REDACTED]'), text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isResponse(value: unknown): value is Response {
  return isRecord(value) && typeof value.status === 'number' && isRecord(value.headers) && typeof value.headers.get === 'function' && typeof value.text === 'function';
}
