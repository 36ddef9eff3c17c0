/**
 * How a failed OAuth 2 step should be treated by its caller:
 * - `invalid_grant`: the code / refresh token is dead (expired, revoked, reused). Definitive: ask the user to reconnect.
 * - `invalid_client`: the client credentials are wrong. Definitive: fix the app configuration.
 * - `unauthorized_client`: the client may not use this grant type. Definitive.
 * - `access_denied`: the resource owner (or the server) refused the authorization. Definitive.
 * - `transient`: network error, timeout, HTTP 5xx or 429 (and `temporarily_unavailable` / `server_error`). Retry,
 *   after `retryAfterMs` when the server said so.
 * - `protocol`: anything else (malformed response, unexpected status, other OAuth error codes, invalid input).
 */
export type OAuth2ErrorKind =
  | 'invalid_grant'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'access_denied'
  | 'transient'
  | 'protocol';

export type OAuth2Operation =
  | 'buildAuthorizationRequest'
  | 'parseAuthorizationResponse'
  | 'exchangeCode'
  | 'clientCredentials'
  | 'refresh'
  | 'revoke';

export interface OAuth2ErrorDetails {
  kind: OAuth2ErrorKind;
  operation: OAuth2Operation;
  /** The provider's `error` code, when it sent one. */
  error?: string | null;
  /** The provider's `error_description`, with any secret of the request redacted. */
  errorDescription?: string | null;
  /** HTTP status of the failing response; null when there was no response (network error, timeout, bad input). */
  status?: number | null;
  /** From a `Retry-After` header of a transient (429 / 5xx) response, in milliseconds. */
  retryAfterMs?: number | null;
  /** A machine-readable detail: an oauth4webapi code (`OAUTH_...`), a network code (`ECONNREFUSED`), `TIMEOUT`, `INVALID_INPUT`. */
  code?: string | null;
  /** Extra human-readable detail for the message (never a secret). */
  detail?: string;
}

export interface OAuth2ErrorJson {
  name: 'OAuth2Error';
  kind: OAuth2ErrorKind;
  operation: OAuth2Operation;
  message: string;
  error: string | null;
  errorDescription: string | null;
  status: number | null;
  retryAfterMs: number | null;
  code: string | null;
}

/**
 * The only error the client functions throw. It carries no `cause`: the underlying oauth4webapi errors hold
 * request and response bodies (tokens, codes), and `cause` is printed by `util.inspect` and test runners.
 */
export class OAuth2Error extends Error {
  override readonly name = 'OAuth2Error';
  readonly kind: OAuth2ErrorKind;
  readonly operation: OAuth2Operation;
  readonly error: string | null;
  readonly errorDescription: string | null;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly code: string | null;

  constructor(details: OAuth2ErrorDetails) {
    super(describe(details));
    this.kind = details.kind;
    this.operation = details.operation;
    this.error = details.error ?? null;
    this.errorDescription = details.errorDescription ?? null;
    this.status = details.status ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.code = details.code ?? null;
  }

  /** Definitive failures the caller must not retry (the token-refresh app marks the connection broken). */
  get isDefinitive(): boolean {
    return this.kind === 'invalid_grant' || this.kind === 'invalid_client' || this.kind === 'unauthorized_client' || this.kind === 'access_denied';
  }

  toJSON(): OAuth2ErrorJson {
    return {
      name: this.name,
      kind: this.kind,
      operation: this.operation,
      message: this.message,
      error: this.error,
      errorDescription: this.errorDescription,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      code: this.code,
    };
  }
}

function describe(d: OAuth2ErrorDetails): string {
  const parts = [`${d.operation} failed (${d.kind})`];
  if (d.error) parts.push(`error=${d.error}`);
  if (d.errorDescription) parts.push(`"${d.errorDescription}"`);
  if (d.status != null) parts.push(`HTTP ${d.status}`);
  if (d.retryAfterMs != null) parts.push(`retry after ${d.retryAfterMs} ms`);
  if (d.code) parts.push(`[${d.code}]`);
  if (d.detail) parts.push(`- ${d.detail}`);
  return parts.join(' ');
}

export function isOAuth2Error(value: unknown): value is OAuth2Error {
  return value instanceof OAuth2Error;
}
