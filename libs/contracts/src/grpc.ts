import path from 'node:path';
import type { ErrorCode } from './errors';

/** The .proto of Plugboard's gRPC service, for servers and for clients in this repository. */
export const PLUGBOARD_PROTO_PATH = path.join(__dirname, '..', 'proto', 'plugboard.proto');
export const GRPC_PACKAGE = 'plugboard.v1';
export const GRPC_SERVICE = 'Plugboard';

/** Trailing metadata of a failed call: the stable error code, and (validation_failed) the fields as JSON. */
export const GRPC_ERROR_CODE_KEY = 'plugboard-error-code';
export const GRPC_ERROR_DETAILS_KEY = 'plugboard-error-details';
/** Trailing metadata of a `user_not_authorized` answer to a product's key: the connect link, as JSON `{url, expiresAt}`. */
export const GRPC_CONNECT_LINK_KEY = 'plugboard-connect-link';

/** gRPC status codes (grpc/status.h), named here so that contracts need no gRPC library. */
const Status = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * Error codes as gRPC status codes, as HTTP_STATUS does for HTTP. UNAVAILABLE is kept for what is worth retrying
 * (an app or the API could not be reached); a refusal the caller must fix is FAILED_PRECONDITION or PERMISSION_DENIED.
 */
export const GRPC_STATUS: Record<ErrorCode, number> = {
  validation_failed: Status.INVALID_ARGUMENT,
  malformed_json: Status.INVALID_ARGUMENT,
  invalid_characters: Status.INVALID_ARGUMENT,
  too_deeply_nested: Status.INVALID_ARGUMENT,
  return_url_not_allowed: Status.INVALID_ARGUMENT,
  unauthenticated: Status.UNAUTHENTICATED,
  forbidden: Status.PERMISSION_DENIED,
  user_mismatch: Status.PERMISSION_DENIED,
  cross_site_request: Status.PERMISSION_DENIED,
  sign_in_link_invalid: Status.UNAUTHENTICATED,
  connect_link_not_found: Status.NOT_FOUND,
  connect_link_expired: Status.FAILED_PRECONDITION,
  connect_link_used: Status.FAILED_PRECONDITION,
  not_found: Status.NOT_FOUND,
  service_not_found: Status.NOT_FOUND,
  link_name_taken: Status.ALREADY_EXISTS,
  field_not_editable: Status.FAILED_PRECONDITION,
  not_owner: Status.PERMISSION_DENIED,
  service_read_only: Status.PERMISSION_DENIED,
  service_in_use: Status.FAILED_PRECONDITION,
  service_client_not_found: Status.NOT_FOUND,
  connection_not_found: Status.NOT_FOUND,
  webhook_not_found: Status.NOT_FOUND,
  connection_internal: Status.PERMISSION_DENIED,
  not_authorized: Status.FAILED_PRECONDITION,
  service_not_configured: Status.FAILED_PRECONDITION,
  authorization_failed: Status.FAILED_PRECONDITION,
  credential_rejected: Status.INVALID_ARGUMENT,
  credential_unusable: Status.FAILED_PRECONDITION,
  form_body_required: Status.INVALID_ARGUMENT,
  credential_param_conflict: Status.INVALID_ARGUMENT,
  verification_unreachable: Status.UNAVAILABLE,
  connection_not_connected: Status.FAILED_PRECONDITION,
  connection_revoked: Status.FAILED_PRECONDITION,
  user_not_authorized: Status.FAILED_PRECONDITION,
  host_not_allowed: Status.PERMISSION_DENIED,
  reauthorization_required: Status.FAILED_PRECONDITION,
  private_address: Status.PERMISSION_DENIED,
  upstream_timeout: Status.DEADLINE_EXCEEDED,
  upstream_unreachable: Status.UNAVAILABLE,
  upstream_too_large: Status.RESOURCE_EXHAUSTED,
  concurrency_conflict: Status.ABORTED,
  idempotency_key_invalid: Status.INVALID_ARGUMENT,
  idempotency_key_not_supported: Status.INVALID_ARGUMENT,
  idempotency_key_reused: Status.FAILED_PRECONDITION,
  idempotency_key_in_progress: Status.ABORTED,
  // Not worth retrying until an operator configures the missing master key.
  credential_unreadable: Status.FAILED_PRECONDITION,
  payload_too_large: Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
  timeout: Status.DEADLINE_EXCEEDED,
  internal_error: Status.INTERNAL,
};
