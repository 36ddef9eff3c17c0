import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, type RecordedEvent, type ServiceEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { applyServiceEdit } from '@plugboard/registry-domain';
import { ServiceRecord } from '../read-models/service.record';
import { toDefinition, toRecordFields } from '../read-models/service.view';

type Handled = ServiceEvent;

/**
 * Builds the `services` read model from the custom services' streams, inline: `serviceCommands` applies it in each
 * command's transaction. (Connection counts: ServiceConnectionCountProjection.)
 */
@Injectable()
export class ServiceListProjection implements Projection {
  readonly name = 'services';
  readonly category = 'service';
  readonly inline = true;
  readonly handles: Handled['type'][] = ['ServiceCreated', 'ServiceEdited', 'ServiceDeleted'];
  readonly tables = ['services'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as Handled;
    const repository = manager.getRepository(ServiceRecord);
    switch (event.type) {
      case 'ServiceCreated': {
        const at = new Date(event.data.createdAt);
        await repository.upsert({ ...toRecordFields(event.data), revision: recorded.streamVersion, createdAt: at, updatedAt: at }, ['orgId', 'linkName']);
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
      default:
        return assertNever(event);
    }
  }
}
