import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectionEvent, RecordedEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { RefreshSchedule } from '../refresh/refresh-schedule';

/**
 * Keeps `refresh_schedule` from the connection streams: every credential that expires (an OAuth 2 token with an
 * expiry; API keys, Basic and OAuth 1.0a credentials have none) with the time it is due, gone once revoked,
 * replaced or deleted. The due time is derived from the event alone, so a rebuild gives the same schedule.
 */
@Injectable()
export class RefreshScheduleProjection implements Projection {
  readonly name = 'refresh-schedule';
  readonly category = 'connection';
  readonly handles: ConnectionEvent['type'][] = ['ConnectionAuthorized', 'TokenRefreshed', 'ConnectionRevoked', 'ConnectionDeleted'];
  readonly tables = ['refresh_schedule'];

  constructor(private readonly schedule: RefreshSchedule) {}

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ConnectionEvent;
    switch (event.type) {
      case 'ConnectionAuthorized': {
        const d = event.data;
        if (d.replacesCredentialRef) await this.schedule.remove(d.replacesCredentialRef, manager);
        if (d.expiresAt) {
          await this.schedule.authorized(manager, {
            credentialRef: d.credentialRef,
            orgId: d.orgId,
            linkName: d.linkName,
            userId: d.userId,
            expiresAt: new Date(d.expiresAt),
            issuedAt: new Date(d.authorizedAt),
          });
        }
        return;
      }
      case 'TokenRefreshed': {
        const d = event.data;
        if (!d.expiresAt) return this.schedule.remove(d.credentialRef, manager);
        await this.schedule.refreshedInLog(manager, {
          streamId: recorded.streamId,
          credentialRef: d.credentialRef,
          orgId: d.orgId,
          linkName: d.linkName,
          userId: d.userId,
          expiresAt: new Date(d.expiresAt),
          issuedAt: new Date(d.refreshedAt),
        });
        return;
      }
      case 'ConnectionRevoked':
        return this.schedule.remove(event.data.credentialRef, manager);
      case 'ConnectionDeleted':
        return this.schedule.removeAll(manager, event.data.credentialRefs);
      default:
        return;
    }
  }
}
