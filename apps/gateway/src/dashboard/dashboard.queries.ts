import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { connectionStreamId } from '@plugboard/contracts';

/*
 * The dashboard reads the read models and the event log directly, in one read-only snapshot, rather than asking each
 * app over the bus: it is read-only, these tables are projections made to be read, and one transaction gives a
 * consistent picture. The price is that the queries below know those tables' shapes (their migrations are in
 * libs/connections, apps/token-refresh, apps/invoke-proxy and libs/event-store): this file is the only place that does.
 */

/** Rows the panels show; never a secret (the tables hold none, and events hold only vault references). */
export interface DashboardData {
  orgId: string;
  generatedAt: string;
  connections: { linkName: string; name: string; service: string; authType: string; internal: boolean; status: 'connected' | 'pending' | 'revoked'; revokedReason: string | null; credentials: number }[];
  /** OAuth 2 credentials that expire within the hour, whose refresh is overdue, or that have expired. */
  expiring: { linkName: string; userId: string | null; expiresAt: string; dueAt: string; attempts: number; lastError: string | null; state: 'expired' | 'overdue' | 'soon' }[];
  scheduledCredentials: number;
  /** Connections whose API refused calls CONNECTION_DEGRADED_AFTER times in a row (ConnectionDegraded), not yet recovered. */
  degraded: { linkName: string; name: string; service: string; consecutiveFailures: number; lastError: string | null; lastUsedAt: string | null }[];
  refreshFailures: { linkName: string; userId: string | null; error: string; definitive: boolean; at: string }[];
  revocations: { linkName: string; userId: string | null; reason: string; by: string; at: string }[];
  /** Per connection, over the last 24 hours. */
  invocations: { connection: string; calls: number; errors: number; errorRate: number; p50Ms: number; p95Ms: number; lastAt: string }[];
  events: LoggedEvent[];
  /** Every event of one connection's stream, when one was asked for. */
  timeline: { linkName: string; events: LoggedEvent[] } | null;
  /** The webhook delivery log's summary: admins only (as `GET /v1/webhook/deliveries`). */
  webhookDeliveries: { byStatus: Record<string, number>; recent: { eventType: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; at: string }[] } | null;
}

export interface LoggedEvent {
  position: string;
  streamId: string;
  version: number;
  type: string;
  data: unknown;
  recordedAt: string;
}

export const EXPIRING_WITHIN_MINUTES = 60;
export const INVOCATION_WINDOW_HOURS = 24;
const TAIL = 30;
const RECENT = 20;
/** A refresh due this long ago and not done is overdue (the scheduler runs every second by default). */
const OVERDUE_GRACE_SECONDS = 60;

const iso = (value: Date | string | null): string => (value === null ? '' : new Date(value).toISOString());

@Injectable()
export class DashboardQueries {
  constructor(private readonly dataSource: DataSource) {}

  /** Everything the dashboard shows for one org, from one snapshot. `connection` asks for that stream's timeline. */
  read(orgId: string, options: { connection?: string; withWebhooks: boolean }): Promise<DashboardData> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      return {
        orgId,
        generatedAt: new Date().toISOString(),
        connections: await this.connections(m, orgId),
        ...(await this.expiring(m, orgId)),
        degraded: await this.degraded(m, orgId),
        refreshFailures: await this.refreshFailures(m, orgId),
        revocations: await this.revocations(m, orgId),
        invocations: await this.invocations(m, orgId),
        // Webhook registrations name the org's webhook URL: admins only, as GET /v1/webhook.
        events: (
          await m.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE metadata->>'orgId' = $1 AND ($2 OR stream_id NOT LIKE 'webhook-%') ORDER BY global_position DESC LIMIT ${TAIL}`, [orgId, options.withWebhooks === true])
        ).map(toEvent),
        timeline: options.connection ? { linkName: options.connection, events: await this.timeline(m, orgId, options.connection) } : null,
        webhookDeliveries: options.withWebhooks ? await this.webhookDeliveries(m, orgId) : null,
      };
    });
  }

  // A connection's status is its own credential's; with login-user credentials, connected when any user's is.
  private async connections(m: EntityManager, orgId: string): Promise<DashboardData['connections']> {
    const rows = await m.query(
      `SELECT c.link_name, c.name, c.service, c.auth_type, c.internal,
              CASE WHEN bool_or(k.status = 'connected') THEN 'connected' WHEN bool_or(k.status = 'revoked') THEN 'revoked' ELSE 'pending' END AS status,
              min(k.revoked_reason) FILTER (WHERE k.status = 'revoked') AS revoked_reason,
              count(k.user_key)::int AS credentials
         FROM connections c
         LEFT JOIN connection_credentials k
           ON k.org_id = c.org_id AND k.link_name = c.link_name AND (c.use_login_user_credentials OR k.user_key = '*')
        WHERE c.org_id = $1
        GROUP BY c.org_id, c.link_name
        ORDER BY c.link_name`,
      [orgId],
    );
    return rows.map((r: Record<string, never>) => ({
      linkName: r.link_name,
      name: r.name,
      service: r.service,
      authType: r.auth_type,
      internal: r.internal,
      status: r.status,
      revokedReason: r.status === 'revoked' ? r.revoked_reason : null,
      credentials: r.credentials,
    }));
  }

  private async expiring(m: EntityManager, orgId: string): Promise<Pick<DashboardData, 'expiring' | 'scheduledCredentials'>> {
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
        expiresAt: iso(r.expires_at),
        dueAt: iso(r.due_at),
        attempts: r.attempts,
        lastError: r.last_error,
        state: r.state,
      })),
    };
  }

  /** The org's latest events of one type, newest first. */
  private recent(m: EntityManager, orgId: string, type: string): Promise<{ data: Record<string, never>; recorded_at: Date }[]> {
    return m.query(`SELECT data, recorded_at FROM events WHERE type = $2 AND metadata->>'orgId' = $1 ORDER BY global_position DESC LIMIT ${RECENT}`, [orgId, type]);
  }

  private async degraded(m: EntityManager, orgId: string): Promise<DashboardData['degraded']> {
    const rows = await m.query(
      `SELECT c.link_name, c.name, c.service, h.consecutive_failures, h.last_error->>'message' AS last_error, h.last_used_at
         FROM connections c LEFT JOIN connection_health h ON h.org_id = c.org_id AND h.link_name = c.link_name
        WHERE c.org_id = $1 AND c.degraded
        ORDER BY c.link_name
        LIMIT 100`,
      [orgId],
    );
    return rows.map((r: Record<string, never>) => ({
      linkName: r.link_name,
      name: r.name,
      service: r.service,
      consecutiveFailures: r.consecutive_failures ?? 0,
      lastError: r.last_error,
      lastUsedAt: r.last_used_at === null ? null : iso(r.last_used_at),
    }));
  }

  private async refreshFailures(m: EntityManager, orgId: string): Promise<DashboardData['refreshFailures']> {
    return (await this.recent(m, orgId, 'TokenRefreshFailed')).map((r) => ({
      linkName: r.data.linkName,
      userId: r.data.userId,
      error: r.data.error,
      definitive: r.data.definitive,
      at: r.data.failedAt ?? iso(r.recorded_at),
    }));
  }

  private async revocations(m: EntityManager, orgId: string): Promise<DashboardData['revocations']> {
    return (await this.recent(m, orgId, 'ConnectionRevoked')).map((r) => ({
      linkName: r.data.linkName,
      userId: r.data.userId,
      reason: r.data.reason,
      by: r.data.revokedBy,
      at: r.data.revokedAt ?? iso(r.recorded_at),
    }));
  }

  // An error is a call the API answered 4xx/5xx, or that ended without an answer (timeout, refused address…).
  private async invocations(m: EntityManager, orgId: string): Promise<DashboardData['invocations']> {
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
      lastAt: iso(r.last_at),
    }));
  }

  private async timeline(m: EntityManager, orgId: string, linkName: string): Promise<LoggedEvent[]> {
    // The stream id carries the org: another org's connection of the same name is another stream.
    const rows = await m.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [connectionStreamId(orgId, linkName)]);
    return rows.map(toEvent);
  }

  private async webhookDeliveries(m: EntityManager, orgId: string): Promise<NonNullable<DashboardData['webhookDeliveries']>> {
    const counts = await m.query(`SELECT status, count(*)::int AS count FROM webhook_deliveries WHERE org_id = $1 GROUP BY status`, [orgId]);
    const recent = await m.query(
      `SELECT event_type, status, attempts, last_status, last_error, coalesce(delivered_at, last_attempt_at, created_at) AS at
         FROM webhook_deliveries WHERE org_id = $1 ORDER BY seq DESC LIMIT 10`,
      [orgId],
    );
    return {
      byStatus: Object.fromEntries(counts.map((r: { status: string; count: number }) => [r.status, r.count])),
      recent: recent.map((r: Record<string, never>) => ({ eventType: r.event_type, status: r.status, attempts: r.attempts, lastStatus: r.last_status, lastError: r.last_error, at: iso(r.at) })),
    };
  }
}

const EVENT_COLUMNS = 'global_position, stream_id, stream_version, type, data, recorded_at';

function toEvent(r: { global_position: string; stream_id: string; stream_version: number; type: string; data: unknown; recorded_at: Date }): LoggedEvent {
  return { position: String(r.global_position), streamId: r.stream_id, version: r.stream_version, type: r.type, data: r.data, recordedAt: iso(r.recorded_at) };
}
