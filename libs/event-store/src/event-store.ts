import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppendBatcher, APPEND_SQL, appendParameters, isUniqueViolation, type AppendedRow, type AppendRequest } from './append-batcher';
import type { Decider, Event, EventMetadata, RecordedEvent } from '@plugboard/contracts';
import { WrongExpectedVersionError } from './errors';
import type { EventLogNotifier } from './notifier';
import type { LogPosition } from './position';
import type { Projection } from './subscriptions/projection';

/** `'any'` appends whatever the stream's version; a number is the version the caller last saw (0: no stream). */
export type ExpectedVersion = number | 'any';

export interface AppendOptions {
  metadata?: EventMetadata;
  /** Append inside the caller's transaction (e.g. with the vault write the events refer to). */
  manager?: EntityManager;
  /** A projection applied to the appended events in that same transaction (see Projection.inline); needs `manager`. */
  inline?: Projection;
}

export interface AppendResult {
  nextExpectedVersion: number;
  /** Where the last appended event sits in the log. */
  logPosition: LogPosition;
  /** The events as the log now holds them. */
  recorded: RecordedEvent[];
}

export interface ReadAllOptions {
  after?: LogPosition;
  limit?: number;
  /** Only streams whose id starts with `<category>-`. */
  category?: string;
  /** Only events whose metadata names this org (every command records its actor's org there). */
  orgId?: string;
  manager?: EntityManager;
  /**
   * false: every committed event, also those behind an older transaction still open. Only for a reader that knows
   * nothing of what it reads can still be in flight (an inline projection's rebuild or take-over, holding its tables).
   */
  settled?: boolean;
}

interface EventRow {
  event_id: string;
  stream_id: string;
  stream_version: number;
  global_position: string;
  transaction_id: string;
  type: string;
  data: object;
  metadata: EventMetadata;
  recorded_at: Date;
}

/*
 * `transaction_id` comes back as text under its own name, so an `ORDER BY transaction_id` would sort that text output
 * column ("99" after "557") rather than the xid8: every ORDER BY here names `events.` columns, which PostgreSQL never
 * takes for an output alias.
 */
const COLUMNS = `event_id, stream_id, stream_version, global_position, transaction_id::text AS transaction_id, type, data, metadata, recorded_at`;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: Number(row.global_position),
    transactionId: row.transaction_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at.toISOString(),
  };
}

/** The PostgreSQL event log: append with optimistic concurrency, read a stream, read the whole log gap-safely. */
export class EventStore {
  private readonly batcher: AppendBatcher;
  private readonly pool: { query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> };

  constructor(
    readonly dataSource: DataSource,
    private readonly notifier?: EventLogNotifier,
  ) {
    // Appends outside a caller's transaction go straight to the pg pool under TypeORM, as a prepared statement.
    this.pool = (dataSource.driver as PostgresDriver).master;
    this.batcher = new AppendBatcher((text, values, name) => this.prepared<AppendedRow>(name, text, values));
  }

  /**
   * A statement on a hot path, straight on the pg pool as a named prepared statement: planned once per connection,
   * and without TypeORM's query runner around it (appends, and the change feed's read before every proxied call).
   */
  async prepared<Row>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query({ name, text, values })).rows as Row[];
  }

  /**
   * Appends events to a stream if its version is still `expectedVersion`; otherwise throws
   * WrongExpectedVersionError and records nothing. Resolves once the events are committed.
   */
  async append(streamId: string, expectedVersion: ExpectedVersion, events: Event[], options: AppendOptions = {}): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    if (options.inline && !options.manager) throw new Error('an inline projection is applied in the caller\'s transaction: pass its manager');
    const request: AppendRequest = { streamId, expected: expectedVersion === 'any' ? -1 : expectedVersion, events, metadata: options.metadata ?? {} };
    let rows: AppendedRow[];
    try {
      rows = options.manager ? await options.manager.query(APPEND_SQL, appendParameters([request])) : await this.batcher.submit(request);
    } catch (error) {
      if (isUniqueViolation(error)) throw new WrongExpectedVersionError(streamId, request.expected, null);
      throw error;
    }
    if (rows.length === 0) throw new WrongExpectedVersionError(streamId, request.expected, await this.streamVersion(streamId, options.manager));
    // The stream's category as the log's generated column has it (split_part(stream_id, '-', 1)).
    if (!options.manager) this.notifier?.poke([streamId.split('-', 1)[0]]);
    // In stream order, as `events` is (RETURNING promises no order).
    rows.sort((a, b) => a.stream_version - b.stream_version);
    const last = rows[rows.length - 1];
    const recorded = rows.map((row, i): RecordedEvent => ({
      id: row.event_id,
      streamId,
      streamVersion: row.stream_version,
      position: Number(row.global_position),
      transactionId: row.transaction_id,
      type: events[i].type,
      // As a read of the log would give it back (JSON: no undefined, no class instances).
      data: JSON.parse(JSON.stringify(events[i].data)),
      metadata: request.metadata,
      recordedAt: row.recorded_at.toISOString(),
    }));
    const { inline, manager } = options;
    if (inline && manager) for (const event of recorded) if (inline.handles.includes(event.type)) await inline.apply(event, manager);
    return { nextExpectedVersion: last.stream_version, logPosition: { transactionId: last.transaction_id, position: Number(last.global_position) }, recorded };
  }

  /** Runs `work` in one transaction and wakes subscribers (of `categories`, when the caller knows them) once it has committed. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>, categories?: readonly string[]): Promise<T> {
    const result = await this.dataSource.transaction(work);
    this.notifier?.poke(categories);
    return result;
  }

  async readStream(streamId: string, manager?: EntityManager): Promise<RecordedEvent[]> {
    const rows: EventRow[] = await (manager ?? this.dataSource.manager).query(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY events.stream_version`,
      [streamId],
    );
    return rows.map(toRecorded);
  }

  async streamVersion(streamId: string, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [row] = await manager.query(`SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`, [streamId]);
    return Number(row.version);
  }

  /** Folds a stream into a decider's state; `version` is what to pass as the expected version of the next append. */
  async aggregateStream<E extends Event, S>(streamId: string, decider: Pick<Decider<unknown, E, S>, 'evolve' | 'initialState'>, manager?: EntityManager): Promise<{ state: S; version: number }> {
    const events = await this.readStream(streamId, manager);
    const state = events.reduce((s, e) => decider.evolve(s, { type: e.type, data: e.data } as E), decider.initialState());
    return { state, version: events.length === 0 ? 0 : events[events.length - 1].streamVersion };
  }

  /** The last committed event of the log (or of a category), in reading order; null when there is none. */
  async head(category?: string): Promise<LogPosition | null> {
    const [row] = await this.dataSource.query(
      `SELECT transaction_id::text AS transaction_id, global_position FROM events ${category ? 'WHERE category = $1' : ''}
       ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
      category ? [category] : [],
    );
    return row ? { transactionId: row.transaction_id, position: Number(row.global_position) } : null;
  }

  /**
   * Where the event at a global position sits in reading order, to carry on reading after it; null when there is no
   * such event (or, with `orgId`, none of that org).
   */
  async logPositionOf(position: number, options: { orgId?: string } = {}): Promise<LogPosition | null> {
    const [row] = await this.dataSource.query(
      `SELECT transaction_id::text AS transaction_id FROM events WHERE global_position = $1 AND ($2::text IS NULL OR metadata->>'orgId' = $2)`,
      [position, options.orgId ?? null],
    );
    return row ? { transactionId: row.transaction_id, position } : null;
  }

  /**
   * Reads the log in (transaction id, position) order after `after`, stopping before the oldest transaction still
   * in progress: its events, and those of every later transaction, are not visible yet and must not be passed.
   * `heldBack` says whether committed events exist beyond that line (the caller should look again soon).
   */
  async readAll(options: ReadAllOptions = {}): Promise<{ events: RecordedEvent[]; heldBack: boolean }> {
    const after = options.after ?? { transactionId: '0', position: 0 };
    const limit = options.limit ?? 500;
    const params: unknown[] = [after.transactionId, after.position];
    let filters = '';
    if (options.category) filters += ` AND category = $${params.push(options.category)}`;
    if (options.orgId) filters += ` AND metadata->>'orgId' = $${params.push(options.orgId)}`;
    const runner = options.manager ?? this.dataSource.manager;
    if (options.settled === false) {
      const rows: EventRow[] = await runner.query(
        `SELECT ${COLUMNS} FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) ${filters}
          ORDER BY events.transaction_id, events.global_position LIMIT $${params.length + 1}`,
        [...params, limit],
      );
      return { events: rows.map(toRecorded), heldBack: false };
    }
    // One statement, one snapshot: the visible batch and whether anything lies beyond the horizon. Without events the
    // batch's LEFT JOIN still gives the one row that carries held_back.
    const rows: (Partial<EventRow> & { held_back: boolean })[] = await runner.query(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
       SELECT held.held_back, ${COLUMNS}
         FROM (SELECT EXISTS (SELECT 1 FROM events, horizon WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
                 AND transaction_id >= horizon.xmin ${filters}) AS held_back) held
         LEFT JOIN LATERAL (SELECT events.* FROM events, horizon
           WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND transaction_id < horizon.xmin ${filters}
           ORDER BY events.transaction_id, events.global_position LIMIT $${params.length + 1}) events ON true
        ORDER BY events.transaction_id, events.global_position`,
      [...params, limit],
    );
    const heldBack = rows[0]?.held_back ?? false;
    const events = rows.filter((row): row is EventRow & { held_back: boolean } => row.event_id !== null).map(toRecorded);
    return { events, heldBack };
  }
}
