import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import type { EventStore } from '../event-store';
import type { LogPosition } from '../position';
import { CatchUpSubscription, type SubscriptionHandler } from './catch-up';

/**
 * A read model built from the log: one `apply` per event it declares, inside the subscription's transaction, or,
 * inline, inside the transaction of the command that appends the event.
 */
export interface Projection {
  name: string;
  category?: string;
  handles: readonly string[];
  /** The tables it owns; a rebuild empties them. */
  tables: readonly string[];
  /**
   * Applied by the commands of its category in their own transaction (`commandHandlerFor(…, { inline })`), not by a
   * subscription: the read model is current when the command's transaction commits. Only for a projection of one
   * category whose every append goes through that command handler.
   */
  inline?: boolean;
  apply(event: RecordedEvent, manager: EntityManager): Promise<void>;
}

export function projectionHandler(projection: Projection): SubscriptionHandler {
  return {
    name: `projection:${projection.name}`,
    category: projection.category,
    eventTypes: projection.handles,
    async handle(events, manager) {
      for (const event of events) await projection.apply(event, manager);
    },
  };
}

/**
 * Empties a projection's tables and replays the log from position 0 into them. It waits for a live replica's
 * batch (inline: for the commands writing its tables) to finish first, so the two never interleave.
 */
export async function rebuildProjection(store: EventStore, projection: Projection): Promise<void> {
  if (projection.inline) return rebuildInline(store, projection);
  const handler = projectionHandler(projection);
  await store.dataSource.transaction(async (manager) => {
    // The checkpoint row is the subscription's lock: this waits for a live batch to commit, and holds off the next.
    await manager.query(
      `INSERT INTO subscription_checkpoints (name) VALUES ($1)
       ON CONFLICT (name) DO UPDATE SET transaction_id = '0', position = 0, updated_at = now()`,
      [handler.name],
    );
    // One statement, so that tables referencing each other can be emptied together.
    if (projection.tables.length > 0) await manager.query(`TRUNCATE TABLE ${projection.tables.map(quoteIdent).join(', ')}`);
  });
  await new CatchUpSubscription(store, handler).catchUp();
}

/**
 * An inline projection, rebuilt in one transaction that holds its tables (TRUNCATE locks them exclusively) until it
 * commits: it waits for the commands that wrote to them, and those that come later wait for it and then apply their
 * events on top of the rebuilt rows, events a replay did not see, having been uncommitted. So every event is
 * applied once, whenever a command commits.
 */
async function rebuildInline(store: EventStore, projection: Projection, manager?: EntityManager): Promise<void> {
  if (!manager) return store.dataSource.transaction((transaction) => rebuildInline(store, projection, transaction));
  if (projection.tables.length > 0) await manager.query(`TRUNCATE TABLE ${projection.tables.map(quoteIdent).join(', ')}`);
  for (let after: LogPosition | undefined; ; ) {
    const { events } = await store.readAll({ after, limit: 500, category: projection.category, manager, settled: false });
    for (const event of events) if (projection.handles.includes(event.type)) await projection.apply(event, manager);
    if (events.length < 500) return;
    after = events[events.length - 1];
  }
}

/**
 * Where a projection that a subscription used to build is now written inline: as the app starts, the read model is
 * rebuilt (commands wait meanwhile) and that subscription's checkpoint retired, in one transaction. A rebuild rather
 * than the events after its checkpoint: commands of this version may already have applied some of those inline, and
 * applying an older event after a newer one is not always harmless. Nothing to do on a database that never had the
 * subscription, or where it was taken over already.
 */
export async function takeOverFromSubscription(store: EventStore, projection: Projection): Promise<void> {
  const name = projectionHandler(projection).name;
  await store.dataSource.transaction(async (manager) => {
    const [row] = await manager.query(`SELECT 1 FROM subscription_checkpoints WHERE name = $1 FOR UPDATE`, [name]);
    if (!row) return;
    await rebuildInline(store, projection, manager);
    await manager.query(`DELETE FROM subscription_checkpoints WHERE name = $1`, [name]);
  });
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table name: ${name}`);
  return `"${name}"`;
}
