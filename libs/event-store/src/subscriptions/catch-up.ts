import { EventEmitter } from 'node:events';
import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import type { EventStore } from '../event-store';
import type { EventLogNotifier } from '../notifier';
import { compareLogPositions, START, type LogPosition } from '../position';

export interface SubscriptionHandler {
  /** Unique and stable: it names the checkpoint. */
  name: string;
  /** Only streams `<category>-…`; the whole log when absent. */
  category?: string;
  /** Event types to hand over; others are passed by (the checkpoint still moves past them). */
  eventTypes?: readonly string[];
  /** The handler appends events (a saga): wake the other subscribers once its batch has committed. */
  appends?: boolean;
  /**
   * Applies a batch inside the transaction that also moves the checkpoint: the effect and the checkpoint commit
   * together or not at all, so every event's effect happens exactly once.
   */
  handle(events: RecordedEvent[], manager: EntityManager): Promise<void>;
}

export interface SubscriptionOptions {
  batchSize?: number;
  /** Safety net for a lost notification; live delivery comes from the notifier. */
  pollIntervalMs?: number;
  onError?: (error: unknown, subscription: string) => void;
  /** After a batch is committed (for metrics: how many, how late). */
  onBatch?: (events: RecordedEvent[], subscription: string) => void;
  /**
   * A per-process tail of the log (e.g. to invalidate a cache): starts at the head, keeps its position in memory,
   * takes no lock and writes no checkpoint. Every replica sees every event.
   */
  ephemeral?: boolean;
}

/**
 * A catch-up subscription: reads the log from its checkpoint in gap-safe order, hands batches to its handler, and
 * then waits for the notifier. Replicas of the same subscription take turns through an advisory lock, so a batch
 * is never applied by two processes.
 */
export class CatchUpSubscription {
  private running = false;
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private dirty = true;
  /**
   * Ephemeral: where the tail is. Otherwise the checkpoint as this process last read or wrote it: a lower bound of
   * the real one (only a rebuild moves a checkpoint back, and it then catches up past it itself).
   */
  private memory: LogPosition = START;

  constructor(
    private readonly store: EventStore,
    private readonly handler: SubscriptionHandler,
    private readonly notifier?: EventLogNotifier,
    private readonly options: SubscriptionOptions = {},
  ) {}

  get name(): string {
    return this.handler.name;
  }

  async start(): Promise<void> {
    if (this.options.ephemeral) this.memory = (await this.store.head(this.handler.category)) ?? START;
    else {
      await this.store.dataSource.query(`INSERT INTO subscription_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [this.name]);
      this.memory = await readCheckpoint(this.store.dataSource.manager, this.name);
    }
    this.running = true;
    this.unsubscribe = this.notifier?.onAppend(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearInterval(this.timer);
    this.wake();
    await this.loop;
  }

  /** Processes what is visible and free to process right now, without waiting for anything. */
  async poll(): Promise<void> {
    while (await this.processBatch()) {
      /* until a batch comes back short */
    }
  }

  /**
   * Processes the log up to its head as of this call, then resolves. While another replica holds the subscription's
   * lock, or an older transaction still hides newer events, it waits and tries again. Used by rebuilds and tests.
   */
  async catchUp(timeoutMs = 30_000): Promise<void> {
    const head = await this.store.head(this.handler.category);
    if (!head) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const more = await this.processBatch();
      const checkpoint = await readCheckpoint(this.store.dataSource.manager, this.name);
      if (compareLogPositions(checkpoint, head) >= 0) return;
      if (Date.now() > deadline) throw new Error(`subscription ${this.name} did not reach the head of the log within ${timeoutMs} ms`);
      if (!more) await delay(10);
    }
  }

  private wake(): void {
    this.dirty = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (!this.dirty) await new Promise<void>((resolve) => (this.wakeUp = resolve));
      this.wakeUp = undefined;
      this.dirty = false;
      if (!this.running) break;
      try {
        const moreNow = await this.processBatch();
        failures = 0;
        if (moreNow) this.dirty = true;
      } catch (error) {
        failures += 1;
        this.options.onError?.(error, this.name);
        await delay(Math.min(50 * 2 ** failures, 5000));
        this.dirty = true;
      }
    }
  }

  /**
   * One batch in one transaction. True when there may be more to read right away. The batch is read first, outside
   * the transaction, after the checkpoint as last seen here: when nothing is there (a wake-up for another category,
   * or for events already applied) that one query is all it costs. Under the lock, when the checkpoint is still where
   * it was seen, that read is the batch; otherwise another replica moved it, and the batch is read again after it.
   */
  private async processBatch(): Promise<boolean> {
    if (this.options.ephemeral) return this.processEphemeralBatch();
    const batchSize = this.options.batchSize ?? 200;
    const seen = this.memory;
    const ahead = await this.store.readAll({ after: seen, limit: batchSize, category: this.handler.category });
    let heldBack = ahead.heldBack;
    let more = false;
    let handled = false;
    let batch: RecordedEvent[] = [];
    if (ahead.events.length > 0) {
      await this.store.dataSource.transaction(async (manager) => {
        // Another replica is applying a batch of this subscription: let it, and look again when woken.
        const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`, [`subscription:${this.name}`]);
        if (!locked) {
          heldBack = true;
          return;
        }
        const checkpoint = await readCheckpoint(manager, this.name);
        const read = compareLogPositions(checkpoint, seen) === 0 ? ahead : await this.store.readAll({ after: checkpoint, limit: batchSize, category: this.handler.category, manager });
        this.memory = checkpoint;
        heldBack = read.heldBack;
        if (read.events.length === 0) return;
        batch = read.events;
        const wanted = this.handler.eventTypes ? read.events.filter((e) => this.handler.eventTypes?.includes(e.type)) : read.events;
        if (wanted.length > 0) {
          await this.handler.handle(wanted, manager);
          handled = true;
        }
        const last = read.events[read.events.length - 1];
        await manager.query(
          `INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ($1, $2::xid8, $3)
           ON CONFLICT (name) DO UPDATE SET transaction_id = $2::xid8, position = $3, updated_at = now()`,
          [this.name, last.transactionId, last.position],
        );
        more = read.events.length === batchSize;
      });
    }
    if (batch.length > 0) {
      const last = batch[batch.length - 1];
      this.memory = { transactionId: last.transactionId, position: last.position };
      checkpointMoved.emit(checkpointKey(this.store, this.name), last);
      this.options.onBatch?.(batch, this.name);
    }
    if (handled && this.handler.appends) this.notifier?.poke();
    // Events committed behind an older, still-open transaction: look again shortly rather than at the next poll.
    if (heldBack && !more && this.running) setTimeout(() => this.wake(), 5).unref();
    return more;
  }

  private async processEphemeralBatch(): Promise<boolean> {
    const batchSize = this.options.batchSize ?? 200;
    const read = await this.store.readAll({ after: this.memory, limit: batchSize, category: this.handler.category });
    if (read.events.length > 0) {
      const wanted = this.handler.eventTypes ? read.events.filter((e) => this.handler.eventTypes?.includes(e.type)) : read.events;
      if (wanted.length > 0) await this.handler.handle(wanted, this.store.dataSource.manager);
      this.memory = read.events[read.events.length - 1];
      this.options.onBatch?.(read.events, this.name);
    }
    const more = read.events.length === batchSize;
    if (read.heldBack && !more && this.running) setTimeout(() => this.wake(), 5).unref();
    return more;
  }
}

export async function readCheckpoint(manager: EntityManager, name: string): Promise<LogPosition> {
  const [row] = await manager.query(`SELECT transaction_id::text AS transaction_id, position FROM subscription_checkpoints WHERE name = $1`, [name]);
  return row ? { transactionId: row.transaction_id, position: Number(row.position) } : START;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Says, within this process, that a subscription committed its checkpoint at a position: a command waiting to read
 * its own write is answered at once, without reading the checkpoint table. Keyed by database as well as by name, so
 * two databases in one process (tests) never answer each other's waits.
 */
const checkpointMoved = new EventEmitter().setMaxListeners(0);

function checkpointKey(store: EventStore, subscription: string): string {
  const options = store.dataSource.options as { url?: string; host?: string; port?: number; database?: string };
  return `${options.url ?? `${options.host}:${options.port}/${options.database}`} ${subscription}`;
}

/**
 * Waits until a subscription has passed `position`, so a command's caller can read its own write from a read
 * model. It reads the checkpoint table, so it works whichever replica runs the subscription: at once when this
 * process's subscription moves, otherwise by polling with backoff. After `timeoutMs` it gives up quietly (the read
 * model is then merely behind, not wrong).
 */
export async function waitForCheckpoint(store: EventStore, subscription: string, position: LogPosition, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let passed = false;
  let wake: (() => void) | undefined;
  const listener = (committed: LogPosition) => {
    if (compareLogPositions(committed, position) < 0) return;
    passed = true;
    wake?.();
  };
  const key = checkpointKey(store, subscription);
  checkpointMoved.on(key, listener);
  try {
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      const [row] = await store.dataSource.query(
        `SELECT (transaction_id, position) >= ($2::xid8, $3::bigint) AS passed FROM subscription_checkpoints WHERE name = $1`,
        [subscription, position.transactionId, position.position],
      );
      if (row?.passed || passed) return true;
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (passed) return true;
    }
  } finally {
    checkpointMoved.off(key, listener);
  }
}
