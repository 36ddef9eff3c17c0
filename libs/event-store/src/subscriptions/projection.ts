import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import type { EventStore } from '../event-store';
import { CatchUpSubscription, forgetCommittedCheckpoint, type SubscriptionHandler } from './catch-up';

/** A read model built from the log: one `apply` per event it declares, inside the subscription's transaction. */
export interface Projection {
  name: string;
  category?: string;
  handles: readonly string[];
  /** The tables it owns; a rebuild empties them. */
  tables: readonly string[];
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
 * batch to finish first, so the two never interleave.
 */
export async function rebuildProjection(store: EventStore, projection: Projection): Promise<void> {
  const handler = projectionHandler(projection);
  await store.dataSource.transaction(async (manager) => {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`subscription:${handler.name}`]);
    // One statement, so that tables referencing each other can be emptied together.
    if (projection.tables.length > 0) await manager.query(`TRUNCATE TABLE ${projection.tables.map(quoteIdent).join(', ')}`);
    await manager.query(
      `INSERT INTO subscription_checkpoints (name) VALUES ($1)
       ON CONFLICT (name) DO UPDATE SET transaction_id = '0', position = 0, updated_at = now()`,
      [handler.name],
    );
  });
  forgetCommittedCheckpoint(store, handler.name);
  await new CatchUpSubscription(store, handler).catchUp();
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table name: ${name}`);
  return `"${name}"`;
}
