import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectionEvent, RecordedEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { VerifySchedule } from '../verify/verify-schedule';

/**
 * Keeps `verify_schedule` from the connection streams: every credential without expiry (whatever its kind; whether
 * its service declares a verification call is looked up when it is due), gone once revoked, replaced or deleted,
 * or once a refresh gives it an expiry (the refresh schedule then watches it).
 */
@Injectable()
export class VerifyScheduleProjection implements Projection {
  readonly name = 'verify-schedule';
  readonly category = 'connection';
  readonly handles: ConnectionEvent['type'][] = ['ConnectionAuthorized', 'TokenRefreshed', 'ConnectionRevoked', 'ConnectionDeleted'];
  readonly tables = ['verify_schedule'];

  constructor(private readonly schedule: VerifySchedule) {}

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ConnectionEvent;
    switch (event.type) {
      case 'ConnectionAuthorized': {
        const d = event.data;
        if (d.replacesCredentialRef) await this.schedule.remove(d.replacesCredentialRef, manager);
        if (d.expiresAt === null) {
          await this.schedule.add(manager, { streamId: recorded.streamId, credentialRef: d.credentialRef, orgId: d.orgId, linkName: d.linkName, userId: d.userId, since: new Date(d.authorizedAt) });
        }
        return;
      }
      case 'TokenRefreshed': {
        const d = event.data;
        if (d.expiresAt !== null) return this.schedule.remove(d.credentialRef, manager);
        await this.schedule.add(manager, { streamId: recorded.streamId, credentialRef: d.credentialRef, orgId: d.orgId, linkName: d.linkName, userId: d.userId, since: new Date(d.refreshedAt) });
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
