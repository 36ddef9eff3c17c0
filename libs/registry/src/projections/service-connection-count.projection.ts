import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectionEvent, RecordedEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';

type Handled = Extract<ConnectionEvent, { type: 'ConnectionCreated' | 'ConnectionDeleted' }>;

/**
 * How many connections each custom service has (`service_connection_counts`), from the connections' creation and
 * deletion: a service in use cannot be deleted. A log subscription, since the connection streams are written by the
 * connections module.
 */
@Injectable()
export class ServiceConnectionCountProjection implements Projection {
  readonly name = 'service-connection-counts';
  readonly category = 'connection';
  readonly handles: Handled['type'][] = ['ConnectionCreated', 'ConnectionDeleted'];
  readonly tables = ['service_connection_counts'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as Handled;
    if (event.type === 'ConnectionCreated') {
      if (event.data.service.type !== 'custom') return;
      await manager.query(
        `INSERT INTO service_connection_counts (org_id, link_name, connection_count) VALUES ($1, $2, 1)
         ON CONFLICT (org_id, link_name) DO UPDATE SET connection_count = service_connection_counts.connection_count + 1`,
        [event.data.orgId, event.data.service.linkName],
      );
      return;
    }
    await manager.query(`UPDATE service_connection_counts SET connection_count = connection_count - 1 WHERE org_id = $1 AND link_name = $2`, [event.data.orgId, event.data.service]);
  }
}
