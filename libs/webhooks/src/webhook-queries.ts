import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** The delivery log of an org's webhook, in short: deliveries counted by status, and the latest ten. */
export interface WebhookDeliverySummary {
  byStatus: Record<string, number>;
  recent: { eventType: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; at: string }[];
}

/**
 * The webhooks module's query port for the gateway's dashboard. It reads in the caller's transaction (`m`), so the
 * page stays one snapshot. Admins only, as `GET /v1/webhook/deliveries`: the caller checks.
 */
@Injectable()
export class WebhookQueries {
  async deliverySummary(m: EntityManager, orgId: string): Promise<WebhookDeliverySummary> {
    const counts = await m.query(`SELECT status, count(*)::int AS count FROM webhook_deliveries WHERE org_id = $1 GROUP BY status`, [orgId]);
    const recent = await m.query(
      `SELECT event_type, status, attempts, last_status, last_error, coalesce(delivered_at, last_attempt_at, created_at) AS at
         FROM webhook_deliveries WHERE org_id = $1 ORDER BY seq DESC LIMIT 10`,
      [orgId],
    );
    return {
      byStatus: Object.fromEntries(counts.map((r: { status: string; count: number }) => [r.status, r.count])),
      recent: recent.map((r: Record<string, never>) => ({ eventType: r.event_type, status: r.status, attempts: r.attempts, lastStatus: r.last_status, lastError: r.last_error, at: new Date(r.at).toISOString() })),
    };
  }
}
