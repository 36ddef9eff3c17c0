import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Actor, InvokeEntry } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { invocations, outcomeOf } from '@plugboard/metrics';
import { LOGGER } from '@plugboard/runtime';

export interface Invocation {
  /** Which door the call came in by. */
  entry: InvokeEntry | 'proxy';
  actor: Actor | null;
  connection: string;
  method: string;
  url: URL | null;
  status: number | null;
  errorCode: string | null;
  started: number;
}

interface Row {
  entry: string;
  org_id: string;
  user_id: string;
  connection: string;
  method: string;
  host: string | null;
  path: string | null;
  status: number | null;
  error_code: string | null;
  latency_ms: number;
  /** Epoch milliseconds: PostgreSQL makes the timestamp, in the batch's one statement. */
  at: number;
}

/** Rows are written together, a few times a second: one INSERT per call would cost more than the call itself. */
const FLUSH_EVERY_MS = 250;
const FLUSH_AT_ROWS = 1000;

/** The invocations table: who called what, how it went. Never secrets, bodies or query values. */
@Injectable()
export class InvocationLog implements OnModuleDestroy {
  private pending: Row[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Written after the answer, so it never slows a call. */
  record(call: Invocation): void {
    const now = Date.now();
    invocations.observe({ entry: call.entry, outcome: outcomeOf(call.status, call.errorCode) }, (now - call.started) / 1000);
    if (!call.actor) return; // not authenticated: not an invocation of anyone's connection
    this.pending.push({
      entry: call.entry,
      org_id: call.actor.orgId,
      user_id: call.actor.userId,
      connection: call.connection,
      method: call.method,
      host: call.url?.host ?? null,
      path: call.url?.pathname ?? null,
      status: call.status,
      error_code: call.errorCode,
      latency_ms: now - call.started,
      at: now,
    });
    if (this.pending.length >= FLUSH_AT_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return;
    // One JSON parameter: JSON.stringify is native, where array parameters are escaped value by value in JavaScript.
    await this.store.dataSource
      .query(
        `INSERT INTO invocations (entry, org_id, user_id, connection, method, host, path, status, error_code, latency_ms, at)
         SELECT entry, org_id, user_id, connection, method, host, path, status, error_code, latency_ms, to_timestamp(at / 1000.0)
           FROM json_to_recordset($1::json) AS r(entry text, org_id text, user_id text, connection text, method text, host text, path text, status int, error_code text, latency_ms int, at bigint)`,
        [JSON.stringify(rows)],
      )
      .catch((error) => this.logger.warn({ err: error, rows: rows.length }, 'could not record invocations'));
  }

  /** Before the platform closes the database (at application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }
}
