import { z } from 'zod';
import { ActorSchema } from '../identifiers';

/**
 * The events an org's webhook can receive: what happens to its connections' authorizations, and edits of its custom
 * services (which revoke their connections). `TokenRefreshFailed` is sent only when it is definitive (the credential
 * is then revoked); transient failures are retried by Plugboard and would only be noise. `ReauthorizationRequired`: a
 * token expired (or is about to) with nothing to renew it, so the user must authorize again. `ConnectionDegraded` and
 * `ConnectionRecovered`: its API refused calls several times in a row, and later accepted one again.
 */
export const WEBHOOK_EVENT_TYPES = ['ConnectionAuthorized', 'TokenRefreshed', 'TokenRefreshFailed', 'ConnectionRevoked', 'ConnectionDeleted', 'ServiceEdited', 'ReauthorizationRequired', 'ConnectionDegraded', 'ConnectionRecovered'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Signing secrets are `whsec_` and 256 random bits in base64url. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'plugboard-signature';
/** Header carrying the event id: the same on every attempt, so a receiver can drop a repeat. */
export const WEBHOOK_EVENT_ID_HEADER = 'plugboard-event-id';

export const RegisterWebhookInputSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048, 'must be 2048 characters or fewer'),
  /** Which events to send; all of them when absent. */
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
    .min(1, 'must name at least one event, or be left out for all of them')
    .max(WEBHOOK_EVENT_TYPES.length)
    .optional(),
});
export type RegisterWebhookInput = z.infer<typeof RegisterWebhookInputSchema>;

export const RegisterWebhookRequestSchema = z.strictObject({ actor: ActorSchema, webhook: RegisterWebhookInputSchema });
export type RegisterWebhookRequest = z.infer<typeof RegisterWebhookRequestSchema>;
export const WebhookRequestSchema = z.strictObject({ actor: ActorSchema });
export type WebhookRequest = z.infer<typeof WebhookRequestSchema>;
export const ListWebhookDeliveriesRequestSchema = z.strictObject({
  actor: ActorSchema,
  limit: z.coerce.number().int().min(1, 'must be between 1 and 200').max(200, 'must be between 1 and 200').default(50),
  cursor: z.string().max(200).optional(),
});
export type ListWebhookDeliveriesRequest = z.input<typeof ListWebhookDeliveriesRequestSchema>;

/** An org's webhook as it can be read back: never the secret. */
export interface WebhookView {
  url: string;
  events: WebhookEventType[];
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string;
}

/** The answer to registering or rotating: the only time the signing secret is shown. */
export interface WebhookWithSecret {
  webhook: WebhookView;
  secret: string;
}

/**
 * One event's delivery to the org's webhook: `pending` (retried with backoff), `delivered` (a 2xx came back),
 * `failed` (gave up after the last attempt) or `cancelled` (the webhook was removed first). No bodies, no secrets.
 */
export interface WebhookDeliveryView {
  eventId: string;
  type: WebhookEventType;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  /** The HTTP status of the last attempt, null when no answer came back. */
  lastStatus: number | null;
  /** `http_status`, `timeout`, `unreachable`, `private_address` or `not_allowed`; null when the last attempt succeeded. */
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** What a receiver gets: the event as the log holds it (secrets-free), in the org it belongs to. */
export interface WebhookPayload {
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  orgId: string;
  data: object;
}
