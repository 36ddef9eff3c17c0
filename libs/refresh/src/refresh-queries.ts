import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** How far ahead an expiry is shown as coming. */
export const EXPIRING_WITHIN_MINUTES = 60;
/** A refresh due this long ago and not done is overdue (the scheduler runs every second by default). */
const OVERDUE_GRACE_SECONDS = 60;

/** An OAuth 2 credential on the refresh schedule that expires within the hour, is overdue for refresh, or has expired. */
export interface ExpiringCredential {
  linkName: string;
  userId: string | null;
  expiresAt: string;
  dueAt: string;
  attempts: number;
  lastError: string | null;
  state: 'expired' | 'overdue' | 'soon';
}

/**
 * The refresh module's query port for the gateway's dashboard. It reads in the caller's transaction (`m`), so the
 * page stays one snapshot.
 */
@Injectable()
export class RefreshQueries {
  /** The org's credentials that need an eye (at most 100, soonest expiry first), and how many are scheduled at all. */
  async expiring(m: EntityManager, orgId: string): Promise<{ expiring: ExpiringCredential[]; scheduledCredentials: number }> {
    const rows = await m.query(
      `SELECT link_name, user_id, expires_at, due_at, attempts, last_error,
              CASE WHEN expires_at <= now() THEN 'expired' WHEN due_at < now() - make_interval(secs => ${OVERDUE_GRACE_SECONDS}) THEN 'overdue' ELSE 'soon' END AS state
         FROM refresh_schedule
        WHERE org_id = $1 AND (expires_at < now() + make_interval(mins => ${EXPIRING_WITHIN_MINUTES}) OR due_at < now() - make_interval(secs => ${OVERDUE_GRACE_SECONDS}))
        ORDER BY expires_at
        LIMIT 100`,
      [orgId],
    );
    const [{ count }] = await m.query(`SELECT count(*)::int AS count FROM refresh_schedule WHERE org_id = $1`, [orgId]);
    return {
      scheduledCredentials: count,
      expiring: rows.map((r: Record<string, never>) => ({
        linkName: r.link_name,
        userId: r.user_id,
        expiresAt: new Date(r.expires_at).toISOString(),
        dueAt: new Date(r.due_at).toISOString(),
        attempts: r.attempts,
        lastError: r.last_error,
        state: r.state,
      })),
    };
  }
}
