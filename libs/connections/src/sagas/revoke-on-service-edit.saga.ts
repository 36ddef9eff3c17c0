import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SYSTEM_ACTOR, type ConnectionEvent, type RecordedEvent, type ServiceClientEvent, type ServiceEdited } from '@plugboard/contracts';
import { connectionDecider, type ConnectionState } from '@plugboard/connection-domain';
import { compareLogPositions, EventStore, type SubscriptionHandler } from '@plugboard/event-store';
import { connectionCommands } from '../connection-commands';

/**
 * Editing a custom service revokes the credentials of its connections that were authorized before the edit (seed
 * 004), each once; one authorized after it, in log order, was made with the edited service and stays. Log order is
 * the order readers meet the log in, (transaction id, position): by the time the saga reads the edit, every event
 * before it has committed, so the same credentials are revoked however late the saga runs or however often it is
 * replayed. The revocations are appended in the saga's own transaction, with its checkpoint: a crash midway rolls
 * back the whole batch and the restart does it again, and the decider records nothing for a credential already revoked.
 * An org's own OAuth app for a predefined service set, replaced or removed does the same to the org's connections
 * of that service: their tokens were issued to the previous app, which can no longer refresh them.
 */
@Injectable()
export class RevokeOnServiceEditSaga implements SubscriptionHandler {
  readonly name = 'saga:revoke-on-service-edit';
  readonly category = 'service';
  readonly eventTypes = ['ServiceEdited', 'ServiceClientSet', 'ServiceClientRemoved'];
  readonly appends = true;

  constructor(private readonly store: EventStore) {}

  async handle(events: RecordedEvent[], manager: EntityManager): Promise<void> {
    for (const event of events) {
      const { orgId, linkName } = event.data as ServiceEdited['data'] | ServiceClientEvent['data'];
      const serviceType = event.type === 'ServiceEdited' ? 'custom' : 'predefined';
      // The connections made before the edit, found in the log itself so that a read model running behind cannot hide one.
      const streams: { stream_id: string }[] = await manager.query(
        `SELECT DISTINCT stream_id FROM events
          WHERE category = 'connection' AND type = 'ConnectionCreated' AND data->>'orgId' = $1
            AND data->'service'->>'linkName' = $2 AND data->'service'->>'type' = $5
            AND (transaction_id, global_position) < ($3::xid8, $4::bigint)`,
        [orgId, linkName, event.transactionId, event.position, serviceType],
      );
      for (const { stream_id: streamId } of streams) {
        const recorded = await this.store.readStream(streamId, manager);
        const atEdit = fold(recorded.filter((e) => compareLogPositions(e, event) < 0));
        const current = fold(recorded);
        if (atEdit.status !== 'active' || current.status !== 'active') continue;
        const inForce = Object.values(atEdit.credentials).filter((c) => c.status === 'connected').map((c) => c.credentialRef);
        if (inForce.length === 0) continue;
        // In the saga's transaction: a conflict fails the batch, which runs again whole.
        await connectionCommands.handle(
          this.store,
          { type: 'RevokeConnection', data: { orgId, userId: SYSTEM_ACTOR, linkName: current.connection.linkName, reason: 'service_edited', credentialRefs: inForce, now: event.recordedAt } },
          { manager, metadata: { orgId, causationId: event.id } },
        );
      }
    }
  }
}

function fold(events: RecordedEvent[]): ConnectionState {
  return events.reduce((state, e) => connectionDecider.evolve(state, { type: e.type, data: e.data } as ConnectionEvent), connectionDecider.initialState());
}
