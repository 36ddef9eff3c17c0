import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { invalidField, type ListWebhookDeliveriesRequest, type Page, type WebhookDeliveryView, type WebhookEventType } from '@plugboard/contracts';
import { WEBHOOK_SETTINGS, type WebhookSettings } from './webhook-settings';

/** A delivery taken by one replica, with what sending it needs (the event as the log holds it). */
export interface ClaimedDelivery {
  orgId: string;
  eventId: string;
  type: WebhookEventType;
  attempt: number;
  claim: string;
  url: string;
  secretRef: string;
  data: object;
  occurredAt: string;
}

interface DeliveryRow {
  seq: string;
  event_id: string;
  event_type: WebhookEventType;
  status: WebhookDeliveryView['status'];
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
}

/** The `webhook_deliveries` outbox: claims across replicas, attempt results, and the delivery log. */
@Injectable()
export class WebhookDeliveries {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
  ) {}

  /**
   * Takes up to `limit` due deliveries. SKIP LOCKED lets replicas claim side by side without taking the same row;
   * pushing `next_attempt_at` a claim's length ahead keeps it from being claimed again meanwhile, and brings it back
   * if this replica dies mid-attempt (the receiver may then get it twice: it has the event id to drop the repeat).
   */
  async claim(limit: number): Promise<ClaimedDelivery[]> {
    const claim = randomUUID();
    const [rows] = (await this.dataSource.query(
      `UPDATE webhook_deliveries d
          SET claim = $2, attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + $3 * interval '1 millisecond'
         FROM webhooks w, events e
        WHERE (d.org_id, d.event_id) IN (
                SELECT org_id, event_id FROM webhook_deliveries
                 WHERE status = 'pending' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED)
          AND w.org_id = d.org_id AND e.event_id = d.event_id
        RETURNING d.org_id, d.event_id, d.event_type, d.attempts, w.url, w.secret_ref, e.data, e.recorded_at`,
      [limit, claim, this.settings.claimMs],
    )) as [{ org_id: string; event_id: string; event_type: WebhookEventType; attempts: number; url: string; secret_ref: string; data: object; recorded_at: Date }[], number];
    return rows.map((r) => ({
      orgId: r.org_id,
      eventId: r.event_id,
      type: r.event_type,
      attempt: r.attempts,
      claim,
      url: r.url,
      secretRef: r.secret_ref,
      data: r.data,
      occurredAt: new Date(r.recorded_at).toISOString(),
    }));
  }

  /** A 2xx came back. Only the holder of the claim records it, so a replica that took over after a timeout decides. */
  async delivered(d: ClaimedDelivery, status: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status = $4, last_error = NULL, claim = NULL
        WHERE org_id = $1 AND event_id = $2 AND claim = $3 AND status = 'pending'`,
      [d.orgId, d.eventId, d.claim, status],
    );
  }

  /** A failed attempt: tried again after `retryInMs`, or given up on after the last attempt. */
  async failed(d: ClaimedDelivery, status: number | null, error: string, retryInMs: number): Promise<void> {
    const giveUp = d.attempt >= this.settings.maxAttempts;
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = $6, last_status = $4, last_error = $5, claim = NULL, next_attempt_at = now() + $7 * interval '1 millisecond'
        WHERE org_id = $1 AND event_id = $2 AND claim = $3 AND status = 'pending'`,
      [d.orgId, d.eventId, d.claim, status, error, giveUp ? 'failed' : 'pending', retryInMs],
    );
  }

  /** The org's delivery log, newest first. */
  async list(orgId: string, request: Pick<ListWebhookDeliveriesRequest, 'cursor'> & { limit: number }): Promise<Page<WebhookDeliveryView>> {
    const before = decodeCursor(request.cursor);
    // `seq` stays a bigint (node-postgres hands it over as a string anyway): a `seq::text AS seq` would make the
    // ORDER BY sort text, "999" before "1015", and the log would end after the first page.
    const rows: DeliveryRow[] = await this.dataSource.query(
      `SELECT seq, event_id, event_type, status, attempts, last_status, last_error, last_attempt_at, next_attempt_at, delivered_at, created_at
         FROM webhook_deliveries WHERE org_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3`,
      [orgId, before, request.limit + 1],
    );
    const page = rows.slice(0, request.limit);
    return {
      items: page.map((r) => ({
        eventId: r.event_id,
        type: r.event_type,
        status: r.status,
        attempts: r.attempts,
        lastStatus: r.last_status,
        lastError: r.last_error,
        lastAttemptAt: r.last_attempt_at ? new Date(r.last_attempt_at).toISOString() : null,
        nextAttemptAt: r.status === 'pending' ? new Date(r.next_attempt_at).toISOString() : null,
        deliveredAt: r.delivered_at ? new Date(r.delivered_at).toISOString() : null,
        createdAt: new Date(r.created_at).toISOString(),
      })),
      nextCursor: rows.length > request.limit ? Buffer.from(page[page.length - 1].seq).toString('base64url') : null,
    };
  }
}

function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const seq = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,18}$/.test(seq)) throw invalidField('cursor', 'not a cursor this API gave out; start again without it');
  return seq;
}
