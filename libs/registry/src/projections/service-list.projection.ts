import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, type ConnectionEvent, type RecordedEvent, type ServiceEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { applyServiceEdit } from '@plugboard/registry-domain';
import { ServiceRecord } from '../read-models/service.record';
import { toDefinition, toRecordFields } from '../read-models/service.view';

type Handled = ServiceEvent | Extract<ConnectionEvent, { type: 'ConnectionCreated' | 'ConnectionDeleted' }>;

/**
 * Builds the `services` read model from `service-*` streams, and keeps each custom service's connection count from
 * the connections' creation and deletion (so deleting a service in use is refused).
 */
@Injectable()
export class ServiceListProjection implements Projection {
  readonly name = 'services';
  readonly handles: Handled['type'][] = ['ServiceCreated', 'ServiceEdited', 'ServiceDeleted', 'ConnectionCreated', 'ConnectionDeleted'];
  readonly tables = ['services'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as Handled;
    const repository = manager.getRepository(ServiceRecord);
    switch (event.type) {
      case 'ServiceCreated': {
        const at = new Date(event.data.createdAt);
        await repository.upsert({ ...toRecordFields(event.data), connectionCount: 0, revision: recorded.streamVersion, createdAt: at, updatedAt: at }, ['orgId', 'linkName']);
        return;
      }
      case 'ServiceEdited': {
        const record = await repository.findOneBy({ orgId: event.data.orgId, linkName: event.data.linkName });
        if (!record || record.revision >= recorded.streamVersion) return;
        const next = applyServiceEdit(toDefinition(record), event.data.changes);
        await repository.update(
          { orgId: record.orgId, linkName: record.linkName },
          { ...toRecordFields(next), revision: recorded.streamVersion, updatedAt: new Date(event.data.editedAt) },
        );
        return;
      }
      case 'ServiceDeleted':
        await repository.delete({ orgId: event.data.orgId, linkName: event.data.linkName });
        return;
      case 'ConnectionCreated':
        if (event.data.service.type === 'custom') await repository.increment({ orgId: event.data.orgId, linkName: event.data.service.linkName }, 'connectionCount', 1);
        return;
      case 'ConnectionDeleted':
        await repository.decrement({ orgId: event.data.orgId, linkName: event.data.service }, 'connectionCount', 1);
        return;
      default:
        return assertNever(event);
    }
  }
}
