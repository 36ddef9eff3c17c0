import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, type RecordedEvent, type ServiceEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { ServiceRecord } from '../read-models/service.record';

/** Builds the `services` read model from `service-*` streams. */
@Injectable()
export class ServiceListProjection implements Projection {
  readonly name = 'services';
  readonly category = 'service';
  readonly handles: ServiceEvent['type'][] = ['ServiceCreated'];
  readonly tables = ['services'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ServiceEvent;
    switch (event.type) {
      case 'ServiceCreated': {
        const { data } = event;
        await manager.getRepository(ServiceRecord).upsert(
          {
            orgId: data.orgId,
            linkName: data.linkName,
            name: data.name,
            authType: data.authType,
            baseUrl: data.baseUrl,
            allowedHosts: data.allowedHosts,
            authConfig: { apiKey: data.apiKey, oauth1: data.oauth1, oauth2: data.oauth2 },
            owner: data.owner,
            connectionCount: 0,
            revision: recorded.streamVersion,
            createdAt: new Date(data.createdAt),
            updatedAt: new Date(data.createdAt),
          },
          ['orgId', 'linkName'],
        );
        return;
      }
      default:
        return assertNever(event.type);
    }
  }
}
