import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordedEvent, ServiceEdited } from '@plugboard/contracts';
import { connectionDecider } from '@plugboard/connection-domain';
import { EventStore, type SubscriptionHandler } from '@plugboard/event-store';

/** Who the log names as revoking, when a rule rather than a person revokes. */
export const SYSTEM_ACTOR = 'plugboard';

/**
 * Editing a custom service revokes every connection made with it (seed 004), each credential once. The revocations
 * are appended in the saga's own transaction, with its checkpoint: a crash midway rolls back the whole batch and the
 * restart does it again, and the decider records nothing for a credential already revoked.
 */
@Injectable()
export class RevokeOnServiceEditSaga implements SubscriptionHandler {
  readonly name = 'saga:revoke-on-service-edit';
  readonly category = 'service';
  readonly eventTypes = ['ServiceEdited'];
  readonly appends = true;

  constructor(private readonly store: EventStore) {}

  async handle(events: RecordedEvent[], manager: EntityManager): Promise<void> {
    for (const event of events) {
      const { orgId, linkName } = event.data as ServiceEdited['data'];
      // The connections made before the edit, found in the log itself so that a read model running behind cannot hide one.
      const streams: { stream_id: string }[] = await manager.query(
        `SELECT DISTINCT stream_id FROM events
          WHERE category = 'connection' AND type = 'ConnectionCreated' AND data->>'orgId' = $1
            AND data->'service'->>'linkName' = $2 AND data->'service'->>'type' = 'custom'
            AND (transaction_id, global_position) < ($3::xid8, $4::bigint)`,
        [orgId, linkName, event.transactionId, event.position],
      );
      for (const { stream_id: streamId } of streams) {
        const { state, version } = await this.store.aggregateStream(streamId, connectionDecider, manager);
        if (state.status !== 'active') continue;
        const revocations = connectionDecider.decide(
          { type: 'RevokeConnection', data: { orgId, userId: SYSTEM_ACTOR, linkName: state.connection.linkName, reason: 'service_edited', now: event.recordedAt } },
          state,
        );
        if (revocations.length > 0) await this.store.append(streamId, version, revocations, { manager, metadata: { orgId, causationId: event.id } });
      }
    }
  }
}
