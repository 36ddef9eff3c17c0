import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConnectionQueries, type ConnectionStatus, type DegradedConnection, type RefreshFailure, type Revocation } from '@plugboard/connections';
import type { RecordedEvent } from '@plugboard/contracts';
import { WebhookQueries, type WebhookDeliverySummary } from '@plugboard/webhooks';

/*
 * The dashboard reads in one read-only snapshot, in-process rather than asking each app over the bus: it is
 * read-only, and one transaction gives a consistent picture. The modules' tables are read through their query ports
 * (ConnectionQueries, WebhookQueries), each read in this transaction; the queries below read the tables that have
 * no query port yet (libs/refresh's refresh_schedule, invoke-proxy's invocations) and the org's tail of the log.
 */

/** Rows the panels show; never a secret (the tables hold none, and events hold only vault references). */
export interface DashboardData {
  orgId: string;
  generatedAt: string;
  connections: ConnectionStatus[];
  /** OAuth 2 credentials that expire within the hour, whose refresh is overdue, or that have expired. */
  expiring: { linkName: string; userId: string | null; expiresAt: string; dueAt: string; attempts: number; lastError: string | null; state: 'expired' | 'overdue' | 'soon' }[];
  scheduledCredentials: number;
  degraded: DegradedConnection[];
  refreshFailures: RefreshFailure[];
  revocations: Revocation[];
  /** Per connection, over the last 24 hours. */
  invocations: { connection: string; calls: number; errors: number; errorRate: number; p50Ms: number; p95Ms: number; lastAt: string }[];
  events: LoggedEvent[];
  /** Every event of one connection's stream, when one was asked for. */
  timeline: { linkName: string; events: LoggedEvent[] } | null;
  /** The webhook delivery log's summary: admins only (as `GET /v1/webhook/deliveries`). */
  webhookDeliveries: WebhookDeliverySummary | null;
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
/** A refresh due this long ago and not done is overdue (the scheduler runs every second by default). */
const OVERDUE_GRACE_SECONDS = 60;

const iso = (value: Date | string | null): string => (value === null ? '' : new Date(value).toISOString());

@Injectable()
export class DashboardQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionQueries,
    private readonly webhooks: WebhookQueries,
  ) {}

  /** Everything the dashboard shows for one org, from one snapshot. `connection` asks for that stream's timeline. */
  read(orgId: string, options: { connection?: string; withWebhooks: boolean }): Promise<DashboardData> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      return {
        orgId,
        generatedAt: new Date().toISOString(),
        connections: await this.connections.statuses(m, orgId),
        ...(await this.expiring(m, orgId)),
        degraded: await this.connections.degraded(m, orgId),
        refreshFailures: await this.connections.recentRefreshFailures(m, orgId),
        revocations: await this.connections.recentRevocations(m, orgId),
        invocations: await this.invocations(m, orgId),
        // Webhook registrations name the org's webhook URL: admins only, as GET /v1/webhook.
        events: (
          await m.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE metadata->>'orgId' = $1 AND ($2 OR stream_id NOT LIKE 'webhook-%') ORDER BY global_position DESC LIMIT ${TAIL}`, [orgId, options.withWebhooks === true])
        ).map(toEvent),
        timeline: options.connection ? { linkName: options.connection, events: (await this.connections.timeline(m, orgId, options.connection)).map(logged) } : null,
        webhookDeliveries: options.withWebhooks ? await this.webhooks.deliverySummary(m, orgId) : null,
      };
    });
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
}

const EVENT_COLUMNS = 'global_position, stream_id, stream_version, type, data, recorded_at';

function toEvent(r: { global_position: string; stream_id: string; stream_version: number; type: string; data: unknown; recorded_at: Date }): LoggedEvent {
  return { position: String(r.global_position), streamId: r.stream_id, version: r.stream_version, type: r.type, data: r.data, recordedAt: iso(r.recorded_at) };
}

function logged(e: RecordedEvent): LoggedEvent {
  return { position: String(e.position), streamId: e.streamId, version: e.streamVersion, type: e.type, data: e.data, recordedAt: e.recordedAt };
}
