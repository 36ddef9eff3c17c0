import type { IncomingHttpHeaders } from 'node:http';
import { parseRetryAfter } from '@plugboard/outbound';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRYABLE = new Set([429, 502, 503, 504]);

export interface RetrySettings {
  /** Retries after the first attempt; 0 turns retrying off (the default). */
  retries: number;
  baseDelayMs: number;
  /** A longer wait (asked by Retry-After, or reached by backoff) is not waited for: the answer goes back as it is. */
  maxDelayMs: number;
}

/**
 * How long to wait before trying an idempotent call again after a 429 or a 502/503/504, or null to give the
 * answer back as it is. Exponential backoff with jitter; the API's Retry-After wins when it says more.
 */
export function retryDelay(settings: RetrySettings, method: string, status: number, headers: IncomingHttpHeaders | Record<string, string>, attempt: number): number | null {
  if (attempt >= settings.retries || !IDEMPOTENT.has(method) || !RETRYABLE.has(status)) return null;
  const backoff = settings.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
  const delay = Math.max(backoff, parseRetryAfter(headers['retry-after']) ?? 0);
  return delay <= settings.maxDelayMs ? delay : null;
}
