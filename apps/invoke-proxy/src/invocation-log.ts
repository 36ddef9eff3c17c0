import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Actor } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { invocations, outcomeOf } from '@plugboard/metrics';
import { LOGGER } from '@plugboard/runtime';

export interface Invocation {
  /** Which door the call came in by. */
  entry: 'invoke' | 'proxy';
  actor: Actor | null;
  connection: string;
  method: string;
  url: URL | null;
  status: number | null;
  errorCode: string | null;
  started: number;
}

type Row = [orgId: string, userId: string, connection: string, method: string, host: string | null, path: string | null, status: number | null, errorCode: string | null, latencyMs: number, at: Date];

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
    this.pending.push([call.actor.orgId, call.actor.userId, call.connection, call.method, call.url?.host ?? null, call.url?.pathname ?? null, call.status, call.errorCode, now - call.started, new Date(now)]);
    if (this.pending.length >= FLUSH_AT_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return;
    const column = (i: number) => rows.map((row) => row[i]);
    await this.store.dataSource
      .query(
        `INSERT INTO invocations (org_id, user_id, connection, method, host, path, status, error_code, latency_ms, at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::int[], $10::timestamptz[])`,
        Array.from({ length: 10 }, (_, i) => column(i)),
      )
      .catch((error) => this.logger.warn({ err: error, rows: rows.length }, 'could not record invocations'));
  }

  /** Before the platform closes the database (at application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.flush();
  }
}
