import { createHash } from 'node:crypto';
import type { OAuth2Error } from '@plugboard/oauth2';

/** Why a refresh failed, as the metrics count it. */
export type FailureClass = 'transient' | 'definitive' | 'protocol' | 'configuration';

/**
 * A stable fraction in [0, 1) per credential and expiry. The jitter is derived rather than drawn so that a rebuilt
 * schedule, and every replica, compute the same due time for the same token.
 */
export function jitterFraction(credentialRef: string, expiresAt: Date): number {
  const digest = createHash('sha256').update(`${credentialRef}@${expiresAt.toISOString()}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/**
 * When to refresh a token: `margin` before it expires, plus a per-credential jitter of up to `jitter`. For tokens
 * that live less than four margins the lead shrinks to a quarter of the lifetime (and the jitter to an eighth), so a
 * short-lived token is not refreshed again the moment it was issued.
 */
export function dueAt(credentialRef: string, expiresAt: Date, issuedAt: Date, policy: { marginMs: number; jitterMs: number }): Date {
  const lifetime = Math.max(0, expiresAt.getTime() - issuedAt.getTime());
  const lead = Math.min(policy.marginMs, lifetime / 4) + jitterFraction(credentialRef, expiresAt) * Math.min(policy.jitterMs, lifetime / 8);
  return new Date(expiresAt.getTime() - Math.round(lead));
}

/**
 * The wait before the next attempt after `attempts` transient failures in a row: exponential with "equal jitter"
 * (half fixed, half random) so that replicas retrying the same provider spread out, and never shorter than the
 * provider's Retry-After.
 */
export function backoffDelayMs(attempts: number, retryAfterMs: number | null, policy: { backoffBaseMs: number; backoffMaxMs: number }, random: () => number = Math.random): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  const delay = exponential / 2 + random() * (exponential / 2);
  // A Retry-After of hours would leave a credential to expire; past the maximum backoff the provider is asked again.
  const retryAfter = retryAfterMs === null ? 0 : Math.min(retryAfterMs, Math.max(policy.backoffMaxMs, 3_600_000));
  return Math.round(Math.max(delay, retryAfter));
}

/** Only the provider's short error code is recorded; anything else it sent could carry text we must not log. */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The `error` of a TokenRefreshFailed: the provider's code (`invalid_grant`), `http_503`, `timeout` or `network`. */
export function failureCode(error: OAuth2Error): string {
  if (error.error && ERROR_CODE.test(error.error)) return error.error;
  if (error.status !== null) return `http_${error.status}`;
  if (error.code === 'TIMEOUT') return 'timeout';
  return error.kind === 'transient' ? 'network' : 'protocol';
}

/** Definitive (revoke), transient (retry with backoff), or a protocol surprise (retry too, but counted apart). */
export function classify(error: OAuth2Error): FailureClass {
  if (error.isDefinitive) return 'definitive';
  return error.kind === 'transient' ? 'transient' : 'protocol';
}
