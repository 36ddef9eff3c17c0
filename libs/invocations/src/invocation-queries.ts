import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** How far back the per-connection summary looks. */
export const INVOCATION_WINDOW_HOURS = 24;

/** One connection's calls over the window. */
export interface ConnectionInvocations {
  connection: string;
  calls: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  lastAt: string;
}

/**
 * The invocations module's query port for the gateway's dashboard. It reads in the caller's transaction (`m`), so the
 * page stays one snapshot.
 */
@Injectable()
export class InvocationQueries {
  /**
   * The org's calls per connection over the last INVOCATION_WINDOW_HOURS (at most 50, busiest first). An error is a
   * call the API answered 4xx/5xx, or that ended without an answer (timeout, refused address…).
   */
  async perConnection(m: EntityManager, orgId: string): Promise<ConnectionInvocations[]> {
    const rows = await m.query(
      `SELECT connection, count(*)::int AS calls,
              count(*) FILTER (WHERE error_code IS NOT NULL OR status IS NULL OR status >= 400)::int AS errors,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
              max(at) AS last_at
         FROM invocations
        WHERE org_id = $1 AND at > now() - make_interval(hours => ${INVOCATION_WINDOW_HOURS})
        GROUP BY connection
        ORDER BY calls DESC, connection
        LIMIT 50`,
      [orgId],
    );
    return rows.map((r: Record<string, never>) => ({
      connection: r.connection,
      calls: r.calls,
      errors: r.errors,
      errorRate: r.calls === 0 ? 0 : r.errors / r.calls,
      p50Ms: Math.round(Number(r.p50)),
      p95Ms: Math.round(Number(r.p95)),
      lastAt: new Date(r.last_at).toISOString(),
    }));
  }
}
