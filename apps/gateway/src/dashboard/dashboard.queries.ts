import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConnectionQueries, type ConnectionStatus, type DegradedConnection, type RefreshFailure, type Revocation } from '@plugboard/connections';
import type { RecordedEvent } from '@plugboard/contracts';
import { INVOCATION_WINDOW_HOURS, InvocationQueries, type ConnectionInvocations } from '@plugboard/invocations';
import { EXPIRING_WITHIN_MINUTES, RefreshQueries, type ExpiringCredential } from '@plugboard/refresh';
import { WebhookQueries, type WebhookDeliverySummary } from '@plugboard/webhooks';

/*
 * The dashboard reads in one read-only snapshot, in-process rather than asking each app over the bus: it is
 * read-only, and one transaction gives a consistent picture. The modules' tables are read through their query ports
 * (ConnectionQueries, RefreshQueries, InvocationQueries, WebhookQueries), each read in this transaction; the query
 * below reads the org's tail of the log.
 */

/** Rows the panels show; never a secret (the tables hold none, and events hold only vault references). */
export interface DashboardData {
  orgId: string;
  generatedAt: string;
  connections: ConnectionStatus[];
  /** OAuth 2 credentials that expire within the hour, whose refresh is overdue, or that have expired. */
  expiring: ExpiringCredential[];
  scheduledCredentials: number;
  degraded: DegradedConnection[];
  refreshFailures: RefreshFailure[];
  revocations: Revocation[];
  /** Per connection, over the last INVOCATION_WINDOW_HOURS. */
  invocations: ConnectionInvocations[];
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

export { EXPIRING_WITHIN_MINUTES, INVOCATION_WINDOW_HOURS };
const TAIL = 30;

const iso = (value: Date | string | null): string => (value === null ? '' : new Date(value).toISOString());

@Injectable()
export class DashboardQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionQueries,
    private readonly refresh: RefreshQueries,
    private readonly invocations: InvocationQueries,
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
        ...(await this.refresh.expiring(m, orgId)),
        degraded: await this.connections.degraded(m, orgId),
        refreshFailures: await this.connections.recentRefreshFailures(m, orgId),
        revocations: await this.connections.recentRevocations(m, orgId),
        invocations: await this.invocations.perConnection(m, orgId),
        // Webhook registrations name the org's webhook URL: admins only, as GET /v1/webhook.
        events: (
          await m.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE metadata->>'orgId' = $1 AND ($2 OR stream_id NOT LIKE 'webhook-%') ORDER BY global_position DESC LIMIT ${TAIL}`, [orgId, options.withWebhooks === true])
        ).map(toEvent),
        timeline: options.connection ? { linkName: options.connection, events: (await this.connections.timeline(m, orgId, options.connection)).map(logged) } : null,
        webhookDeliveries: options.withWebhooks ? await this.webhooks.deliverySummary(m, orgId) : null,
      };
    });
  }
}

const EVENT_COLUMNS = 'global_position, stream_id, stream_version, type, data, recorded_at';

function toEvent(r: { global_position: string; stream_id: string; stream_version: number; type: string; data: unknown; recorded_at: Date }): LoggedEvent {
  return { position: String(r.global_position), streamId: r.stream_id, version: r.stream_version, type: r.type, data: r.data, recordedAt: iso(r.recorded_at) };
}

function logged(e: RecordedEvent): LoggedEvent {
  return { position: String(e.position), streamId: e.streamId, version: e.streamVersion, type: e.type, data: e.data, recordedAt: e.recordedAt };
}
