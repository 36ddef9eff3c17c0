import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, WEBHOOK_EVENT_TYPES, type RecordedEvent, type TokenRefreshFailed, type WebhookEvent } from '@plugboard/contracts';
import type { SubscriptionHandler } from '@plugboard/event-store';

const REGISTRATION_EVENTS: WebhookEvent['type'][] = ['WebhookRegistered', 'WebhookSecretRotated', 'WebhookRemoved'];

/**
 * Turns the log into webhook deliveries: each auth event of an org whose webhook asked for it becomes a pending row of
 * `webhook_deliveries`, in the transaction that moves this subscription's checkpoint, so that a crash neither loses
 * nor doubles one. Registrations are followed in the same pass, in log order, so an event is sent exactly when the
 * webhook existed at its position in the log. Not a projection: replaying it would send everything again.
 */
@Injectable()
export class WebhookOutbox implements SubscriptionHandler {
  readonly name = 'webhooks:outbox';
  readonly eventTypes: string[] = [...REGISTRATION_EVENTS, ...WEBHOOK_EVENT_TYPES];

  async handle(events: RecordedEvent[], manager: EntityManager): Promise<void> {
    let deliveries: RecordedEvent[] = [];
    const flush = async () => {
      if (deliveries.length === 0) return;
      await manager.query(
        `INSERT INTO webhook_deliveries (org_id, event_id, event_type, status, next_attempt_at)
         SELECT w.org_id, e.event_id, e.event_type, 'pending', now()
           FROM unnest($1::text[], $2::uuid[], $3::text[]) WITH ORDINALITY AS e(org_id, event_id, event_type, n)
           JOIN webhooks w ON w.org_id = e.org_id AND w.events ? e.event_type
          ORDER BY e.n
         ON CONFLICT (org_id, event_id) DO NOTHING`,
        [deliveries.map((e) => (e.data as { orgId: string }).orgId), deliveries.map((e) => e.id), deliveries.map((e) => e.type)],
      );
      deliveries = [];
    };
    for (const event of events) {
      if (!(REGISTRATION_EVENTS as string[]).includes(event.type)) {
        // Transient refresh failures are retried by the token-refresh app; only the definitive one concerns the org.
        if (event.type === 'TokenRefreshFailed' && !(event.data as TokenRefreshFailed['data']).definitive) continue;
        deliveries.push(event);
        continue;
      }
      await flush();
      await this.register({ type: event.type, data: event.data } as WebhookEvent, manager);
    }
    await flush();
  }

  private async register(event: WebhookEvent, manager: EntityManager): Promise<void> {
    switch (event.type) {
      case 'WebhookRegistered': {
        const d = event.data;
        await manager.query(
          `INSERT INTO webhooks (org_id, url, events, secret_ref, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (org_id) DO UPDATE SET url = $2, events = $3, secret_ref = $4, updated_at = $5`,
          [d.orgId, d.url, JSON.stringify(d.events), d.secretRef, d.registeredAt],
        );
        return;
      }
      case 'WebhookSecretRotated':
        // The secret is rewritten in place in the vault: the next attempt signs with the new one.
        return;
      case 'WebhookRemoved':
        await manager.query(`DELETE FROM webhooks WHERE org_id = $1`, [event.data.orgId]);
        await manager.query(`UPDATE webhook_deliveries SET status = 'cancelled', claim = NULL WHERE org_id = $1 AND status = 'pending'`, [event.data.orgId]);
        return;
      default:
        return assertNever(event);
    }
  }
}
