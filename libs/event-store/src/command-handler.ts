import type { Decider, Event, EventMetadata } from '@plugboard/contracts';
import { WrongExpectedVersionError } from './errors';
import type { EventStore } from './event-store';
import type { EntityManager } from 'typeorm';
import type { LogPosition } from './position';

export interface HandleCommandOptions<E extends Event, S> {
  metadata?: EventMetadata;
  /** Writes that must commit with the events (the vault entries they name). */
  alsoWrite?: (manager: EntityManager, events: E[], state: S) => Promise<void>;
  /** How often to decide again when another writer got there first. */
  retries?: number;
}

/**
 * Loads a stream, asks the decider, and appends what it decided with the version it saw. When another writer won
 * the race the command is decided again on the new state, so the loser gets the decider's answer (for example
 * "link name taken") rather than a bare conflict.
 */
export async function handleCommand<C, E extends Event, S>(
  store: EventStore,
  streamId: string,
  decider: Decider<C, E, S>,
  command: C,
  options: HandleCommandOptions<E, S> = {},
): Promise<{ events: E[]; state: S; version: number; logPosition: LogPosition | null }> {
  for (let attempt = 0; ; attempt++) {
    const { state, version } = await store.aggregateStream(streamId, decider);
    const events = decider.decide(command, state);
    const next = events.reduce(decider.evolve, state);
    if (events.length === 0) return { events, state, version, logPosition: null };
    try {
      const { alsoWrite } = options;
      const result = alsoWrite
        ? await store.transaction(async (manager) => {
            const appended = await store.append(streamId, version, events, { metadata: options.metadata, manager });
            await alsoWrite(manager, events, next);
            return appended;
          })
        : await store.append(streamId, version, events, { metadata: options.metadata });
      return { events, state: next, version: result.nextExpectedVersion, logPosition: result.logPosition };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError && attempt < (options.retries ?? 3)) continue;
      throw error;
    }
  }
}
