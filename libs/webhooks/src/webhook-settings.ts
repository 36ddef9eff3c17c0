import { EgressPolicy } from '@plugboard/outbound';
import type { PlatformConfig } from '@plugboard/runtime';

export interface WebhookSettings {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  timeoutMs: number;
  pollMs: number;
  /** Deliveries one replica sends at once. */
  concurrency: number;
  /** How long a claimed delivery is kept from other replicas: longer than any attempt, so only a dead holder's returns. */
  claimMs: number;
  /** The process's egress policy: its address rules, its redirect rule (never) and the attempt's timeout. */
  egress: EgressPolicy;
}

export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');

export function webhookSettings(config: PlatformConfig, egress: EgressPolicy): WebhookSettings {
  return {
    retryBaseMs: config.PLUGBOARD_WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: Math.max(config.PLUGBOARD_WEBHOOK_RETRY_MAX_MS, config.PLUGBOARD_WEBHOOK_RETRY_BASE_MS),
    maxAttempts: config.PLUGBOARD_WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: egress.timeouts.webhookMs,
    pollMs: config.PLUGBOARD_WEBHOOK_POLL_MS,
    concurrency: 8,
    // Derived from the timeout the attempt really runs under (the egress policy's), so a claim always outlasts it.
    claimMs: egress.timeouts.webhookMs + 5_000,
    egress,
  };
}

/**
 * Why a webhook URL is refused, or null: the egress policy's rules, so that a webhook cannot reach inside the
 * deployment. https, and plain http only to hosts the operator allows; no private address written out (names are
 * checked on the address the socket connects to, when each delivery is sent).
 */
export function webhookUrlProblem(url: string, settings: Pick<WebhookSettings, 'egress'>): string | null {
  const refused = settings.egress.refusal(new URL(url));
  if (!refused) return null;
  return refused.code === 'EPRIVATE' ? 'must not be a private or local address' : 'must be https (plain http only for hosts the operator allows in PLUGBOARD_INVOKE_ALLOW_HOSTS)';
}

/**
 * The wait before the next attempt after `attempts` failed ones: the base doubled per attempt, ±20 % so that the
 * deliveries of one outage do not all come back at the same instant, at most the cap. A receiver's Retry-After is
 * honoured when it asks for longer (still within the cap).
 */
export function retryDelayMs(attempts: number, settings: Pick<WebhookSettings, 'retryBaseMs' | 'retryMaxMs'>, retryAfterMs: number | null = null, random = Math.random()): number {
  const backoff = Math.min(settings.retryBaseMs * 2 ** Math.min(attempts - 1, 30), settings.retryMaxMs) * (0.8 + 0.4 * random);
  return Math.round(Math.min(Math.max(backoff, retryAfterMs ?? 0), settings.retryMaxMs));
}
