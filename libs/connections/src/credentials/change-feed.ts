import type { EventStore } from '@plugboard/event-store';

/** One committed event of a connection or service stream, as much as eviction needs (no secret in it). */
export interface Change {
  stream: 'connection' | 'service';
  orgId: string;
  linkName: string;
}

interface Row {
  category: 'connection' | 'service';
  org_id: string | null;
  link_name: string | null;
  transaction_id: string;
  global_position: string;
  settled: boolean;
}

const BATCH = 500;

/**
 * This process's read of the connection and service changes in the log, used to drop cached credentials.
 *
 * `sync()` resolves once a read that *began after the call* has been handed over: a caller that awaits it before
 * using a cached credential has seen every change committed before it called, hence every revocation already
 * acknowledged to anyone. No message can be missed (it is the log itself, not a notification) and no replica
 * depends on another. Concurrent callers share reads: at most one is in flight and one queued behind it.
 *
 * Unlike a projection, it hands over every committed event it can see, also those behind an older transaction
 * still open (dropping a cache entry twice is harmless, seeing a revocation late is not); its position only moves
 * past the events below the oldest open transaction, so one committing late is read on a later pass.
 */
export class ChangeFeed {
  private position: { transactionId: string; position: number } | null = null;
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly onChanges: (changes: Change[]) => void,
  ) {}

  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inFlight) {
      this.inFlight = this.read().finally(() => (this.inFlight = null));
      return this.inFlight;
    }
    this.queued = this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.sync();
      });
    return this.queued;
  }

  private async read(): Promise<void> {
    // Every transaction below the oldest one open has ended: starting there misses none that commits later.
    this.position ??= { transactionId: (await this.store.prepared<{ xmin: string }>('plugboard_xmin', `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`, []))[0].xmin, position: 0 };
    let after = this.position;
    let settledUpTo = this.position;
    let blocked = false;
    for (;;) {
      const rows = await this.store.prepared<Row>(
        'plugboard_change_feed',
        `SELECT category, data->>'orgId' AS org_id, data->>'linkName' AS link_name, transaction_id::text AS transaction_id, global_position,
                transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS settled
           FROM events
          WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND category IN ('connection', 'service')
          ORDER BY transaction_id, global_position LIMIT ${BATCH}`,
        [after.transactionId, after.position],
      );
      const changes: Change[] = [];
      for (const row of rows) {
        if (row.org_id && row.link_name) changes.push({ stream: row.category, orgId: row.org_id, linkName: row.link_name });
        after = { transactionId: row.transaction_id, position: Number(row.global_position) };
        if (!row.settled) blocked = true;
        if (!blocked) settledUpTo = after;
      }
      if (changes.length > 0) this.onChanges(changes);
      if (rows.length < BATCH) break;
    }
    this.position = settledUpTo;
  }
}
