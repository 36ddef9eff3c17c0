import type { ErrorCode } from '@plugboard/contracts';

/** The one place where error codes become HTTP status codes. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  malformed_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  service_not_found: 404,
  link_name_taken: 409,
  field_not_editable: 422,
  not_owner: 403,
  service_read_only: 403,
  service_in_use: 409,
  connection_not_found: 404,
  connection_internal: 403,
  not_authorized: 409,
  service_not_configured: 409,
  authorization_failed: 502,
  concurrency_conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
  timeout: 504,
  internal_error: 500,
};
