import type { Decider, Event, EventMetadata } from '@plugboard/contracts';
import { postgresErrorCode, WrongExpectedVersionError } from './errors';
import type { EventStore } from './event-store';
import type { EntityManager } from 'typeorm';
import type { LogPosition } from './position';
import type { Projection } from './subscriptions/projection';

export interface HandleCommandOptions<E extends Event, S> {
  metadata?: EventMetadata;
  /**
   * The caller's transaction: the command reads and appends in it. A version conflict then fails that transaction,
   * so deciding again is the caller's to do (a subscription's batch, say, runs again whole).
   */
  manager?: EntityManager;
  /**
   * Runs first in the command's transaction, before the stream is read: lock and check what the decision rests on
   * (a vault row `FOR UPDATE`, its version). Throw to refuse: nothing is written.
   */
  precondition?: (manager: EntityManager) => Promise<void>;
  /** Writes that must commit with the events (the vault entries they name). */
  alsoWrite?: (manager: EntityManager, events: E[], state: S) => Promise<void>;
  /** How often to decide again when another writer got there first. */
  retries?: number;
  /** A projection applied to the appended events in the command's transaction (see Projection.inline). */
  inline?: Projection;
}

export interface CommandResult<E extends Event, S> {
  events: E[];
  state: S;
  version: number;
  logPosition: LogPosition | null;
}

/**
 * Loads a stream, asks the decider, and appends what it decided with the version it saw. When another writer won
 * the race the command is decided again on the new state (its transaction and precondition included), so the loser
 * gets the decider's answer (for example "link name taken") rather than a bare conflict.
 */
export async function handleCommand<C, E extends Event, S>(
  store: EventStore,
  streamId: string,
  decider: Decider<C, E, S>,
  command: C,
  options: HandleCommandOptions<E, S> = {},
): Promise<CommandResult<E, S>> {
  const { manager, precondition, alsoWrite, metadata, inline } = options;
  const decideAndAppend = async (transaction?: EntityManager): Promise<CommandResult<E, S>> => {
    if (transaction && precondition) await precondition(transaction);
    const { state, version } = await store.aggregateStream(streamId, decider, transaction);
    const events = decider.decide(command, state);
    if (events.length === 0) return { events, state, version, logPosition: null };
    const next = events.reduce(decider.evolve, state);
    const appended = await store.append(streamId, version, events, { metadata, manager: transaction, inline });
    if (transaction && alsoWrite) await alsoWrite(transaction, events, next);
    return { events, state: next, version: appended.nextExpectedVersion, logPosition: appended.logPosition };
  };
  if (manager) return decideAndAppend(manager);
  // Without anything to commit alongside, the append goes through the store's batcher.
  const ownTransaction = precondition !== undefined || alsoWrite !== undefined || inline !== undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return ownTransaction ? await store.transaction(decideAndAppend, [categoryOf(streamId)]) : await decideAndAppend();
    } catch (error) {
      const retryable = error instanceof WrongExpectedVersionError || (ownTransaction && isTransientConflict(error));
      if (retryable && attempt < (options.retries ?? 3)) continue;
      throw error;
    }
  }
}

/** A stream's category, as the log's generated column has it (split_part(stream_id, '-', 1)). */
function categoryOf(streamId: string): string {
  return streamId.split('-', 1)[0];
}

/**
 * PostgreSQL gave up on the transaction, not on the command: a deadlock (40P01, say a delete's read model writes
 * against the health monitor's append to the same stream) or a serialization failure (40001). Deciding again is safe.
 */
function isTransientConflict(error: unknown): boolean {
  const code = postgresErrorCode(error);
  return code === '40P01' || code === '40001';
}

/** A decider's command handler, bound once: each command names its own stream. */
export interface CommandHandler<C, E extends Event, S> {
  handle(store: EventStore, command: C, options?: HandleCommandOptions<E, S>): Promise<CommandResult<E, S>>;
}

/**
 * Binds `handleCommand` to a decider and the rule that names a command's stream, so no call site repeats them; with
 * `inline`, every command also writes that projection's read model in its own transaction.
 */
export function commandHandlerFor<C, E extends Event, S>(decider: Decider<C, E, S>, streamIdOf: (command: C) => string, bound: { inline?: Projection } = {}): CommandHandler<C, E, S> {
  return { handle: (store, command, options) => handleCommand(store, streamIdOf(command), decider, command, { ...options, ...bound }) };
}
