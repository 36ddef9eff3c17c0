import {
  assertNever,
  DomainError,
  ErrorCodes,
  WEBHOOK_EVENT_TYPES,
  type Decider,
  type RegisterWebhookInput,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookView,
} from '@plugboard/contracts';

/** The org's one webhook stream. Only this module reads or writes it, so its name lives here, not in the contracts. */
export function webhookStreamId(orgId: string): string {
  return `webhook-${orgId}`;
}

/**
 * An org's webhook, decided from its `webhook-<orgId>` stream. Pure like the connection decider (time and the
 * vault reference come in with the command).
 */
export type WebhookState =
  | { status: 'absent' }
  | { status: 'registered'; url: string; events: WebhookEventType[]; secretRef: string; createdAt: string; updatedAt: string; secretRotatedAt: string };

/** `secretRef`: the vault entry the new secret goes to; a replacement keeps the current one. */
export type RegisterWebhook = { type: 'RegisterWebhook'; data: { orgId: string; userId: string; input: RegisterWebhookInput; secretRef: string; now: string } };
export type RotateWebhookSecret = { type: 'RotateWebhookSecret'; data: { orgId: string; userId: string; now: string } };
export type RemoveWebhook = { type: 'RemoveWebhook'; data: { orgId: string; userId: string; now: string } };
export type WebhookCommand = RegisterWebhook | RotateWebhookSecret | RemoveWebhook;

function notFound(): DomainError {
  return new DomainError(ErrorCodes.webhookNotFound, 'This organization has no webhook; register one with PUT /v1/webhook.');
}

/** The webhook as callers may read it: never the secret, nor its vault reference. */
export function webhookView(state: WebhookState): WebhookView {
  if (state.status !== 'registered') throw notFound();
  return { url: state.url, events: state.events, createdAt: state.createdAt, updatedAt: state.updatedAt, secretRotatedAt: state.secretRotatedAt };
}

/** The vault entry that holds the webhook's secret now, or where a first registration puts it. */
function secretRefFor(state: WebhookState, fresh: string): string {
  return state.status === 'registered' ? state.secretRef : fresh;
}

export const webhookDecider: Decider<WebhookCommand, WebhookEvent, WebhookState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'RegisterWebhook': {
        const { orgId, userId, input, secretRef, now } = command.data;
        // Listed in catalogue order, once each, so that the same choice always reads the same.
        const events = WEBHOOK_EVENT_TYPES.filter((t) => (input.events ?? WEBHOOK_EVENT_TYPES).includes(t));
        return [{ type: 'WebhookRegistered', data: { orgId, url: input.url, events, secretRef: secretRefFor(state, secretRef), registeredBy: userId, registeredAt: now } }];
      }
      case 'RotateWebhookSecret':
        if (state.status !== 'registered') throw notFound();
        return [{ type: 'WebhookSecretRotated', data: { orgId: command.data.orgId, secretRef: state.secretRef, rotatedBy: command.data.userId, rotatedAt: command.data.now } }];
      case 'RemoveWebhook':
        if (state.status !== 'registered') throw notFound();
        return [{ type: 'WebhookRemoved', data: { orgId: command.data.orgId, secretRef: state.secretRef, removedBy: command.data.userId, removedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'WebhookRegistered': {
        const d = event.data;
        const createdAt = state.status === 'registered' ? state.createdAt : d.registeredAt;
        return { status: 'registered', url: d.url, events: d.events, secretRef: d.secretRef, createdAt, updatedAt: d.registeredAt, secretRotatedAt: d.registeredAt };
      }
      case 'WebhookSecretRotated':
        return state.status === 'registered' ? { ...state, secretRotatedAt: event.data.rotatedAt } : state;
      case 'WebhookRemoved':
        return { status: 'absent' };
      default:
        return assertNever(event);
    }
  },
};
