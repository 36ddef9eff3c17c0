/**
 * Error codes every process agrees on. They travel unchanged from the app that raised them, over the bus,
 * to the caller; HTTP_STATUS (http-status.ts) turns them into HTTP status codes.
 */
export const ErrorCodes = {
  validationFailed: 'validation_failed',
  malformedJson: 'malformed_json',
  /** A NUL or a control character in a path, a query, a header or a JSON string (none of Plugboard's fields takes one). */
  invalidCharacters: 'invalid_characters',
  /** A JSON body nested deeper than any request needs (refused before it is parsed). */
  tooDeeplyNested: 'too_deeply_nested',
  /** An OAuth returnUrl off the origins PLUGBOARD_RETURN_URL_ORIGINS and PLUGBOARD_PUBLIC_URL allow. */
  returnUrlNotAllowed: 'return_url_not_allowed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  /** A person's key or console session named another user in X-User-Id (only a product's key may act for others). */
  userMismatch: 'user_mismatch',
  /** A request with a console session cookie that changes something came without this Plugboard's Origin (CSRF). */
  crossSiteRequest: 'cross_site_request',
  /** A one-time sign-in link that is unknown, used or expired. */
  signInLinkInvalid: 'sign_in_link_invalid',
  connectLinkNotFound: 'connect_link_not_found',
  connectLinkExpired: 'connect_link_expired',
  /** The connect link was completed already (or its OAuth flow was started in another browser). */
  connectLinkUsed: 'connect_link_used',
  notFound: 'not_found',
  serviceNotFound: 'service_not_found',
  linkNameTaken: 'link_name_taken',
  fieldNotEditable: 'field_not_editable',
  notOwner: 'not_owner',
  serviceReadOnly: 'service_read_only',
  serviceInUse: 'service_in_use',
  /** DELETE of an org's own OAuth app for a predefined service when the org has none. */
  serviceClientNotFound: 'service_client_not_found',
  connectionNotFound: 'connection_not_found',
  webhookNotFound: 'webhook_not_found',
  connectionInternal: 'connection_internal',
  notAuthorized: 'not_authorized',
  serviceNotConfigured: 'service_not_configured',
  authorizationFailed: 'authorization_failed',
  credentialRejected: 'credential_rejected',
  /** The stored credential holds characters no HTTP request can carry (stored before they were refused): authorize again. */
  credentialUnusable: 'credential_unusable',
  /** The service sends a credential as form data (param type form) and the call's body cannot carry a form field. */
  formBodyRequired: 'form_body_required',
  /** The call already holds a field where the service puts a credential (same query, form or header name). */
  credentialParamConflict: 'credential_param_conflict',
  verificationUnreachable: 'verification_unreachable',
  connectionNotConnected: 'connection_not_connected',
  connectionRevoked: 'connection_revoked',
  /** The OAuth 2 access token has expired and cannot be renewed (no refresh token): the user must authorize again. */
  reauthorizationRequired: 'reauthorization_required',
  userNotAuthorized: 'user_not_authorized',
  hostNotAllowed: 'host_not_allowed',
  privateAddress: 'private_address',
  upstreamTimeout: 'upstream_timeout',
  upstreamUnreachable: 'upstream_unreachable',
  upstreamTooLarge: 'upstream_too_large',
  concurrencyConflict: 'concurrency_conflict',
  /** An Idempotency-Key header that is empty, longer than 255 characters, or not printable ASCII. */
  idempotencyKeyInvalid: 'idempotency_key_invalid',
  /** An Idempotency-Key on a route whose answer is not kept (it holds a secret, or it is an API's answer). */
  idempotencyKeyNotSupported: 'idempotency_key_not_supported',
  /** The Idempotency-Key was used in the last 24 hours for another request (route, user or body). */
  idempotencyKeyReused: 'idempotency_key_reused',
  /** The first request with this Idempotency-Key is still running. */
  idempotencyKeyInProgress: 'idempotency_key_in_progress',
  /** A secret in the vault that the configured master keys cannot open (a key left out of PLUGBOARD_MASTER_KEY). */
  credentialUnreadable: 'credential_unreadable',
  payloadTooLarge: 'payload_too_large',
  unavailable: 'unavailable',
  timeout: 'timeout',
  internal: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** One problem with one field of a request, for a person to fix it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The wire shape of an error, on the bus and (wrapped in `{error}`) in HTTP bodies. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: FieldIssue[];
  /** On `user_not_authorized` for a product's key: a connect link to hand to the user (see ConnectLinkHint). */
  connectLink?: { url: string; expiresAt: string };
}

/**
 * A failure that the caller caused or must know about: it carries a stable code and a sentence for a person.
 * Deciders throw it; adapters pass it on unchanged. Its message must never contain a secret.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[],
    /** On `user_not_authorized` for a product's key: the connect link to hand to the user. */
    readonly connectLink?: { url: string; expiresAt: string },
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}), ...(this.connectLink ? { connectLink: this.connectLink } : {}) };
  }

  static isErrorBody(value: unknown): value is ErrorBody {
    return typeof value === 'object' && value !== null && typeof (value as ErrorBody).code === 'string' && typeof (value as ErrorBody).message === 'string';
  }
}
