import type { ErrorCode, FieldIssue } from '@plugboard/contracts';

/**
 * Codes of failures that happen before Plugboard answers: `network_error` (no answer at all: the gateway is down or
 * unreachable, or the request timed out) and `unexpected_response` (an answer that is not Plugboard's, such as a
 * load balancer's HTML page).
 */
export type ClientErrorCode = 'network_error' | 'unexpected_response';

/** A failed call: Plugboard's stable `code` (`connection_not_found`), the HTTP `status` (0 without an answer) and a sentence for a person. */
export class PlugboardError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    readonly status: number,
    message: string,
    /** validation_failed: each offending field. */
    readonly details?: FieldIssue[],
  ) {
    super(message);
    this.name = 'PlugboardError';
  }
}
