import type { WebhookEventType } from './webhook.contract';

/**
 * Events of a `webhook-<orgId>` stream. The signing secret is in the vault under `secretRef`; a registration that
 * replaces another, and a rotation, rewrite that entry in place, so the reference lives as long as the webhook.
 */
export type WebhookRegistered = {
  type: 'WebhookRegistered';
  data: { orgId: string; url: string; events: WebhookEventType[]; secretRef: string; registeredBy: string; registeredAt: string };
};

export type WebhookSecretRotated = {
  type: 'WebhookSecretRotated';
  data: { orgId: string; secretRef: string; rotatedBy: string; rotatedAt: string };
};

/** `secretRef`: the vault entry erased with it. Deliveries still pending are cancelled. */
export type WebhookRemoved = {
  type: 'WebhookRemoved';
  data: { orgId: string; secretRef: string; removedBy: string; removedAt: string };
};

export type WebhookEvent = WebhookRegistered | WebhookSecretRotated | WebhookRemoved;
