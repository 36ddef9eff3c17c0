import { randomUUID } from 'node:crypto';
import type { Event, EventMetadata } from '@plugboard/contracts';
import { postgresErrorCode } from './errors';

/** What an append asks for; `expected` is -1 for "any version". */
export interface AppendRequest {
  streamId: string;
  expected: number;
  events: Event[];
  metadata: EventMetadata;
}

export interface AppendedRow {
  stream_id: string;
  stream_version: number;
  global_position: string;
  transaction_id: string;
  event_id: string;
  recorded_at: Date;
}

/** Runs SQL with parameters as the named prepared statement `name`. */
export type Queryable = (sql: string, values: unknown[], name: string) => Promise<AppendedRow[]>;

// Appends to several streams in one statement. Each stream's version is checked against what its caller expected;
// a stream that fails the check inserts nothing (its caller gets a conflict) while the others commit. A writer that
// raced past the same check in another transaction hits the unique (stream, version) key instead.
export const APPEND_SQL = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], $7::int[])
      WITH ORDINALITY AS i(stream_id, expected, event_id, type, data, metadata, seq, ord)
  ), current AS (
    SELECT s.stream_id, (SELECT coalesce(max(e.stream_version), 0) FROM events e WHERE e.stream_id = s.stream_id) AS version
    FROM (SELECT DISTINCT stream_id FROM input) s
  ), accepted AS (
    SELECT c.stream_id, c.version FROM current c
    WHERE NOT EXISTS (SELECT 1 FROM input i WHERE i.stream_id = c.stream_id AND i.expected <> -1 AND i.expected <> c.version)
  )
  INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata)
  SELECT i.event_id, i.stream_id, a.version + i.seq, i.type, i.data, i.metadata
  FROM input i JOIN accepted a USING (stream_id)
  ORDER BY i.ord
  RETURNING stream_id, stream_version, global_position, transaction_id::text AS transaction_id, event_id, recorded_at`;

/** The statement's parameters for a set of appends, one row per event. */
export function appendParameters(requests: AppendRequest[]): unknown[] {
  const columns: unknown[][] = [[], [], [], [], [], [], []];
  for (const request of requests) {
    request.events.forEach((event, index) => {
      columns[0].push(request.streamId);
      columns[1].push(request.expected);
      columns[2].push(randomUUID());
      columns[3].push(event.type);
      columns[4].push(JSON.stringify(event.data));
      columns[5].push(JSON.stringify(request.metadata));
      columns[6].push(index + 1);
    });
  }
  return columns;
}

interface Pending {
  request: AppendRequest;
  resolve(rows: AppendedRow[]): void;
  reject(error: unknown): void;
}

/** A unique-key violation, from pg directly or wrapped by TypeORM: another writer took the same stream version. */
export function isUniqueViolation(error: unknown): boolean {
  return postgresErrorCode(error) === '23505';
}

/**
 * Group commit for appends made outside a caller's transaction. While a few statements are in flight, new appends
 * wait and then go together in the next statement: one commit (one WAL flush) for many appends, which is what lets
 * one process append thousands of events per second. Each caller still gets its own result or its own conflict,
 * and only after the commit that made its events durable. An append is never put in a batch with another append to
 * the same stream, so batching cannot turn two sequential appends into a conflict.
 */
export class AppendBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: Queryable,
    private readonly maxInFlight = 4,
    private readonly maxEventsPerBatch = 1000,
  ) {}

  /** The rows inserted for this append: empty when its expected version did not match. */
  submit(request: AppendRequest): Promise<AppendedRow[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const streams = new Set<string>();
    const rest: Pending[] = [];
    let events = 0;
    for (const pending of this.queue) {
      const fits = !streams.has(pending.request.streamId) && (batch.length === 0 || events + pending.request.events.length <= this.maxEventsPerBatch);
      if (fits) {
        batch.push(pending);
        streams.add(pending.request.streamId);
        events += pending.request.events.length;
      } else {
        rest.push(pending);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async execute(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.run(APPEND_SQL, appendParameters(batch.map((p) => p.request)), 'plugboard_append');
      for (const pending of batch) pending.resolve(rows.filter((r) => r.stream_id === pending.request.streamId));
    } catch (error) {
      if (batch.length > 1 && isUniqueViolation(error)) {
        // Another process won a race on one of these streams: settle each append on its own, so only that one fails.
        await Promise.all(batch.map((pending) => this.execute([pending])));
        return;
      }
      for (const pending of batch) pending.reject(error);
    }
  }
}
