/** What a command handler proposes to record. `data` never holds a secret. */
export interface Event<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}

/** Who caused an event and why, carried from the gateway through the bus into the log. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  orgId?: string;
  userId?: string;
  [key: string]: unknown;
}

/** An event as the log holds it. `position` orders the whole log; `streamVersion` orders its stream. */
export interface RecordedEvent<E extends Event = Event> {
  id: string;
  streamId: string;
  streamVersion: number;
  position: number;
  /** The writing transaction's id: the log is read in (transactionId, position) order, which is gap-safe. */
  transactionId: string;
  type: E['type'];
  data: E['data'];
  metadata: EventMetadata;
  recordedAt: string;
}

/**
 * A decider: the pure heart of a stream. `decide` turns a command and the current state into new events (or throws
 * a DomainError); `evolve` folds an event into the state. Time and ids come in with the command.
 */
export interface Decider<Command, E extends Event, State> {
  decide(command: Command, state: State): E[];
  evolve(state: State, event: E): State;
  initialState(): State;
}

/** Fails to compile when a switch over a union misses a case. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
