import { STATUS_CODES } from 'node:http';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { CONNECTION_DEGRADED_AFTER, SYSTEM_ACTOR, type ConnectionCallError } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { LOGGER, PollingLoop } from '@plugboard/runtime';
import { connectionCommands } from '../connection-commands';

/** Invocation rows read per round; a full round is followed at once by the next. */
const BATCH = 1000;
const IDLE_MS = 500;
/** Only one replica reads the log at a time (transaction-scoped, so a crash releases it). */
const LOCK_KEY = 0x706c6847; // "plhG"

/** The API's answers that no refresh can fix: the invoke proxy has already refreshed and retried once on a 401. */
const REFUSALS = new Set([401, 403]);

interface InvocationRow {
  id: string;
  org_id: string;
  connection: string;
  status: number | null;
  error_code: string | null;
  host: string | null;
  at: Date;
  settled: boolean;
}

interface Seen {
  orgId: string;
  linkName: string;
  lastUsedAt: string;
  /** Refusals since the last success of this batch (or since its start, when none succeeded). */
  failures: number;
  succeeded: boolean;
  lastError: ConnectionCallError | null;
}

/**
 * Connection health, derived from the invocation log the invoke proxy already writes in batches, so that a call costs
 * nothing more: this reads the rows written since its cursor, keeps lastUsedAt, lastError and consecutiveFailures in
 * `connection_health`, and passes a change of health to the connection's decider (ConnectionDegraded,
 * ConnectionRecovered), all in one transaction with the cursor: no row counted twice, no change lost.
 *
 * Rows are read in id order, and only those whose transaction is older than every transaction still running: a batch
 * that commits late with lower ids is waited for, never skipped.
 */
@Injectable()
export class ConnectionHealthMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;

  constructor(
    private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new PollingLoop(() => this.round().then((read) => (read === BATCH ? 0 : IDLE_MS)), (error) => this.logger.warn({ err: error }, 'reading the invocation log for connection health failed; retrying'), 2000);
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass over the rows written since the cursor; resolves to how many it read. Exposed for tests. */
  async round(): Promise<number> {
    return this.store.dataSource.transaction(async (manager) => {
      const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [LOCK_KEY])) as { locked: boolean }[];
      if (!locked) return 0;
      const [{ last_invocation: after }] = (await manager.query(`SELECT last_invocation FROM connection_health_cursor WHERE id = 1`)) as { last_invocation: string }[];
      // age() compares transaction ids across wraparound: older than the oldest running transaction means settled.
      const rows = (await manager.query(
        `SELECT i.id, i.org_id, i.connection, i.status, i.error_code, i.host, i.at,
                age(i.xmin) > age((pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text::xid) AS settled
           FROM invocations i
          WHERE i.id > $1
          ORDER BY i.id
          LIMIT $2`,
        [after, BATCH],
      )) as InvocationRow[];
      const unsettled = rows.findIndex((r) => !r.settled);
      const ready = unsettled === -1 ? rows : rows.slice(0, unsettled);
      if (ready.length === 0) return 0;
      await this.apply(summarize(ready), manager);
      await manager.query(`UPDATE connection_health_cursor SET last_invocation = $1 WHERE id = 1`, [ready[ready.length - 1].id]);
      return ready.length;
    });
  }

  private async apply(seen: Seen[], manager: EntityManager): Promise<void> {
    if (seen.length === 0) return;
    // Only connections that exist: a call to an unknown link name leaves nothing behind.
    const updated = (await manager.query(
      `WITH seen AS (
         SELECT * FROM json_to_recordset($1::json) AS s(org_id text, link_name text, last_used_at timestamptz, failures int, succeeded boolean, last_error jsonb)
       ), previous AS (
         SELECT h.org_id, h.link_name, h.consecutive_failures FROM connection_health h JOIN seen USING (org_id, link_name)
       )
       INSERT INTO connection_health AS h (org_id, link_name, last_used_at, last_error, consecutive_failures)
       SELECT s.org_id, s.link_name, s.last_used_at, s.last_error, s.failures
         FROM seen s JOIN connections c ON c.org_id = s.org_id AND c.link_name = s.link_name
       ON CONFLICT (org_id, link_name) DO UPDATE SET
         last_used_at = GREATEST(h.last_used_at, excluded.last_used_at),
         last_error = COALESCE(excluded.last_error, h.last_error),
         consecutive_failures = CASE WHEN (SELECT succeeded FROM seen WHERE seen.org_id = h.org_id AND seen.link_name = h.link_name)
                                     THEN excluded.consecutive_failures ELSE h.consecutive_failures + excluded.consecutive_failures END
       RETURNING h.org_id, h.link_name, h.consecutive_failures, h.last_error,
                 COALESCE((SELECT consecutive_failures FROM previous p WHERE p.org_id = h.org_id AND p.link_name = h.link_name), 0) AS previous_failures`,
      [
        JSON.stringify(
          seen.map((s) => ({ org_id: s.orgId, link_name: s.linkName, last_used_at: s.lastUsedAt, failures: s.failures, succeeded: s.succeeded, last_error: s.lastError })),
        ),
      ],
    )) as { org_id: string; link_name: string; consecutive_failures: number; last_error: ConnectionCallError | null; previous_failures: number }[];
    const now = new Date().toISOString();
    for (const row of updated) {
      const before = row.previous_failures >= CONNECTION_DEGRADED_AFTER;
      const after = row.consecutive_failures >= CONNECTION_DEGRADED_AFTER;
      // Only a crossing of the threshold can change health; the decider has the last word on whether it does.
      if (before === after) continue;
      // A command appended meanwhile fails the round's transaction, cursor included: the next round reads it again.
      const { events } = await connectionCommands.handle(
        this.store,
        { type: 'RecordConnectionHealth', data: { orgId: row.org_id, linkName: row.link_name, consecutiveFailures: row.consecutive_failures, lastError: row.last_error, now } },
        { manager, metadata: { orgId: row.org_id, userId: SYSTEM_ACTOR } },
      );
      if (events.length === 0) continue;
      this.logger.info({ orgId: row.org_id, linkName: row.link_name, event: events[0].type, consecutiveFailures: row.consecutive_failures }, 'connection health changed');
    }
  }
}

/** Folds a batch of calls into one line per connection, in order. Calls Plugboard itself answered say nothing of health. */
function summarize(rows: InvocationRow[]): Seen[] {
  const byConnection = new Map<string, Seen>();
  for (const row of rows) {
    if (row.error_code !== null || row.status === null) continue;
    const key = `${row.org_id}\u0000${row.connection}`;
    const at = new Date(row.at).toISOString();
    const seen = byConnection.get(key) ?? { orgId: row.org_id, linkName: row.connection, lastUsedAt: at, failures: 0, succeeded: false, lastError: null };
    seen.lastUsedAt = at > seen.lastUsedAt ? at : seen.lastUsedAt;
    if (REFUSALS.has(row.status)) {
      seen.failures += 1;
      seen.lastError = callError(row.status, row.host, at);
    } else if (row.status < 400) {
      seen.failures = 0;
      seen.succeeded = true;
    }
    byConnection.set(key, seen);
  }
  return [...byConnection.values()];
}

/** Status and host only: an API's error body may echo the credential it refused. */
function callError(status: number, host: string | null, at: string): ConnectionCallError {
  const reason = STATUS_CODES[status] ?? 'an error';
  return { status, host, message: `${host ? `The API at ${host}` : 'The API'} answered ${status} ${reason}: it refuses the connection's credential even after a refresh.`, at };
}
