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
 * then waits for the notifier. Replicas of the same subscription take turns through a lock on its checkpoint row, so
 * a batch is never applied by two processes.
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
  /**
   * The checkpoint row as this process last read or wrote it. Behind `memory` only when the events in between were
   * all of types the handler does not take: moving past those needs no transaction (see processBatch).
   */
  private persisted: LogPosition = START;
  private hasRow = false;

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
      await this.ensureCheckpointRow();
      this.memory = await readCheckpoint(this.store.dataSource.manager, this.name);
      this.persisted = this.memory;
    }
    this.running = true;
    const category = this.handler.category;
    this.unsubscribe = this.notifier?.onAppend((categories) => (!category || !categories || categories.includes(category)) && this.wake());
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
    await this.persistCheckpoint().catch(() => undefined);
  }

  /** Processes what is visible and free to process right now, without waiting for anything. */
  async poll(): Promise<void> {
    await this.ensureCheckpointRow();
    while (await this.processBatch({ eager: true })) {
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
    await this.ensureCheckpointRow();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const more = await this.processBatch({ eager: true });
      const checkpoint = await readCheckpoint(this.store.dataSource.manager, this.name);
      if (compareLogPositions(checkpoint, head) >= 0) return;
      if (Date.now() > deadline) throw new Error(`subscription ${this.name} did not reach the head of the log within ${timeoutMs} ms`);
      if (!more) await delay(10);
    }
  }

  /** The row its batches lock (lockCheckpoint), written once per process. */
  private async ensureCheckpointRow(): Promise<void> {
    if (this.options.ephemeral || this.hasRow) return;
    await this.store.dataSource.query(`INSERT INTO subscription_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [this.name]);
    this.hasRow = true;
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
   * the transaction, after the position last reached here: when nothing is there (a wake-up for events already
   * applied) that one query is all it costs; when none of it is of a type the handler takes, the live loop moves past
   * it in memory only, and the checkpoint row follows at the next batch or quiet wake-up (replaying such events would
   * do nothing, so a crash in between loses nothing). Under the lock, when the checkpoint is still where it was seen,
   * that read is the batch; otherwise another replica moved it, and the batch is read again after it. `eager` (stop,
   * catch-up, poll) always brings the checkpoint row up to date.
   */
  private async processBatch({ eager = false } = {}): Promise<boolean> {
    if (this.options.ephemeral) return this.processEphemeralBatch();
    const batchSize = this.options.batchSize ?? 200;
    // Where this read starts, and the checkpoint row as known then: a batch applied meanwhile (a catch-up beside the
    // live loop) moves the row, and this read is then stale.
    const from = this.persisted;
    const ahead = await this.store.readAll({ after: this.memory, limit: batchSize, category: this.handler.category });
    const takes = (e: RecordedEvent) => !this.handler.eventTypes || this.handler.eventTypes.includes(e.type);
    if (!eager && ahead.events.length > 0 && !ahead.events.some(takes)) {
      const last = ahead.events[ahead.events.length - 1];
      this.memory = { transactionId: last.transactionId, position: last.position };
      this.options.onBatch?.(ahead.events, this.name);
      return this.nextRead(ahead.heldBack, ahead.events.length === batchSize);
    }
    if (ahead.events.length === 0) {
      await this.persistCheckpoint();
      return this.nextRead(ahead.heldBack, false);
    }
    let heldBack = ahead.heldBack;
    let more = false;
    let handled = false;
    let batch: RecordedEvent[] = [];
    await this.store.dataSource.transaction(async (manager) => {
      const checkpoint = await lockCheckpoint(manager, this.name);
      // Another replica is applying a batch of this subscription: let it, and look again when woken. (Or the row is
      // gone, deleted by hand: written again for the next try, from position 0.)
      if (!checkpoint) {
        await manager.query(`INSERT INTO subscription_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [this.name]);
        heldBack = true;
        return;
      }
      // Still as it was when `ahead` was read: what lies between it and `ahead` was skipped as nothing for this handler.
      const ours = compareLogPositions(checkpoint, from) === 0;
      const read = ours ? ahead : await this.store.readAll({ after: checkpoint, limit: batchSize, category: this.handler.category, manager });
      if (!ours) this.memory = this.persisted = checkpoint;
      heldBack = read.heldBack;
      if (read.events.length === 0) return;
      batch = read.events;
      const wanted = read.events.filter(takes);
      if (wanted.length > 0) {
        await this.handler.handle(wanted, manager);
        handled = true;
      }
      const last = read.events[read.events.length - 1];
      await writeCheckpoint(manager, this.name, last);
      more = read.events.length === batchSize;
    });
    if (batch.length > 0) {
      const last = batch[batch.length - 1];
      const committed = { transactionId: last.transactionId, position: last.position };
      // Forward only: a batch applied beside this one may already have moved them further.
      if (compareLogPositions(committed, this.persisted) > 0) this.persisted = committed;
      if (compareLogPositions(committed, this.memory) > 0) this.memory = committed;
      this.options.onBatch?.(batch, this.name);
    }
    if (handled && this.handler.appends) this.notifier?.poke();
    return this.nextRead(heldBack, more);
  }

  /** Writes the checkpoint row up to `memory` when events skipped as nothing for this handler left it behind. */
  private async persistCheckpoint(): Promise<void> {
    const target = this.memory;
    const from = this.persisted;
    if (this.options.ephemeral || compareLogPositions(target, from) <= 0) return;
    const written = await this.store.dataSource.transaction(async (manager) => {
      const checkpoint = await lockCheckpoint(manager, this.name);
      // Another replica at work, or it moved the checkpoint: what it writes supersedes this.
      if (!checkpoint || compareLogPositions(checkpoint, from) !== 0) return false;
      await writeCheckpoint(manager, this.name, target);
      return true;
    });
    if (written && compareLogPositions(target, this.persisted) > 0) this.persisted = target;
  }

  /** `more` passed on; events committed behind an older, still-open transaction: look again shortly rather than at the next poll. */
  private nextRead(heldBack: boolean, more: boolean): boolean {
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
    return this.nextRead(read.heldBack, read.events.length === batchSize);
  }
}

async function writeCheckpoint(manager: EntityManager, name: string, at: LogPosition): Promise<void> {
  await manager.query(
    `INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ($1, $2::xid8, $3)
     ON CONFLICT (name) DO UPDATE SET transaction_id = $2::xid8, position = $3, updated_at = now()`,
    [name, at.transactionId, at.position],
  );
}

/**
 * The subscription's lock and its checkpoint in one statement: the row, locked for this transaction, as the last
 * batch committed it (a row lock returns the newest version, even one committed after this statement began); null
 * while another replica's batch (or a rebuild) holds it (ensureCheckpointRow made sure the row exists).
 */
async function lockCheckpoint(manager: EntityManager, name: string): Promise<LogPosition | null> {
  const [row] = await manager.query(`SELECT transaction_id::text AS transaction_id, position FROM subscription_checkpoints WHERE name = $1 FOR UPDATE SKIP LOCKED`, [name]);
  return row ? { transactionId: row.transaction_id, position: Number(row.position) } : null;
}

export async function readCheckpoint(manager: EntityManager, name: string): Promise<LogPosition> {
  const [row] = await manager.query(`SELECT transaction_id::text AS transaction_id, position FROM subscription_checkpoints WHERE name = $1`, [name]);
  return row ? { transactionId: row.transaction_id, position: Number(row.position) } : START;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
