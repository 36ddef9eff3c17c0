import { z } from 'zod';
import { OAUTH_TIMEOUT_MS } from '@plugboard/outbound';
import { REFRESH_LEASE_MS } from '@plugboard/messaging';
import { ConfigError } from '@plugboard/runtime';

/** The refresh app's own variables; the platform's (DATABASE_URL, NATS_URL…) are read by @plugboard/runtime. */
const RefreshEnvSchema = z.object({
  /** Refresh this long before expiry (less for short-lived tokens: at most a quarter of their lifetime). */
  PLUGBOARD_REFRESH_MARGIN_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
  /** Up to this much earlier again, spread per credential, so that expiries in the same second do not stampede. */
  PLUGBOARD_REFRESH_JITTER_SECONDS: z.coerce.number().min(0).max(3_600).default(60),
  /** How long a replica may hold a credential's lease; a crashed holder is replaced after it. The bus deadline of an on-demand refresh allows for the default (rpcDeadlines). */
  PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: z.coerce.number().min(1).max(600).default(REFRESH_LEASE_MS / 1000),
  /** How often each replica looks for due credentials (± 20 %). */
  PLUGBOARD_REFRESH_INTERVAL_MS: z.coerce.number().int().min(20).max(600_000).default(1_000),
  /** Refreshes one replica runs at once. */
  PLUGBOARD_REFRESH_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(16),
  /** An on-demand request without a version is answered `already_fresh` when the token is valid this much longer. */
  PLUGBOARD_REFRESH_MIN_VALIDITY_SECONDS: z.coerce.number().min(0).max(3_600).default(30),
  /** First retry delay after a transient failure; it doubles per attempt up to the maximum. */
  PLUGBOARD_REFRESH_BACKOFF_BASE_SECONDS: z.coerce.number().min(0.01).max(3_600).default(5),
  PLUGBOARD_REFRESH_BACKOFF_MAX_SECONDS: z.coerce.number().min(0.01).max(86_400).default(300),
  /** `off` answers on-demand requests only (no proactive refresh from this replica). */
  PLUGBOARD_REFRESH_SCHEDULER: z.enum(['on', 'off']).default('on'),
  /** How often a credential without expiry is checked with its service's verification call (6 h). */
  PLUGBOARD_VERIFY_INTERVAL_MS: z.coerce.number().int().min(100).max(30 * 86_400_000).default(6 * 3_600_000),
});

export interface RefreshSettings {
  marginMs: number;
  jitterMs: number;
  leaseTtlMs: number;
  intervalMs: number;
  concurrency: number;
  minValidityMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  schedulerEnabled: boolean;
  verifyIntervalMs: number;
  /** Each token endpoint call gives up well before the lease runs out, so no other replica can take over mid-call. */
  tokenTimeoutMs: number;
}

export const REFRESH_SETTINGS = Symbol('REFRESH_SETTINGS');

/** Reads the refresh variables; a malformed one stops the start with a message naming it (never its value). */
export function loadRefreshSettings(env: NodeJS.ProcessEnv, overrides: Partial<RefreshSettings> = {}): RefreshSettings {
  const result = RefreshEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  const e = result.data;
  const leaseTtlMs = overrides.leaseTtlMs ?? e.PLUGBOARD_REFRESH_LEASE_TTL_SECONDS * 1000;
  return {
    marginMs: e.PLUGBOARD_REFRESH_MARGIN_SECONDS * 1000,
    jitterMs: e.PLUGBOARD_REFRESH_JITTER_SECONDS * 1000,
    leaseTtlMs,
    intervalMs: e.PLUGBOARD_REFRESH_INTERVAL_MS,
    concurrency: e.PLUGBOARD_REFRESH_CONCURRENCY,
    minValidityMs: e.PLUGBOARD_REFRESH_MIN_VALIDITY_SECONDS * 1000,
    backoffBaseMs: e.PLUGBOARD_REFRESH_BACKOFF_BASE_SECONDS * 1000,
    backoffMaxMs: Math.max(e.PLUGBOARD_REFRESH_BACKOFF_MAX_SECONDS, e.PLUGBOARD_REFRESH_BACKOFF_BASE_SECONDS) * 1000,
    schedulerEnabled: e.PLUGBOARD_REFRESH_SCHEDULER === 'on',
    verifyIntervalMs: e.PLUGBOARD_VERIFY_INTERVAL_MS,
    // The egress policy's OAuth timeout, shorter when the lease is short: a call must end well before the lease does.
    tokenTimeoutMs: Math.max(500, Math.min(OAUTH_TIMEOUT_MS, Math.floor(leaseTtlMs / 3))),
    ...overrides,
  };
}
