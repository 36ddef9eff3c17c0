import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { VerifySchedule } from '../verify/verify-schedule';
import { credentialChange, CREDENTIAL_EVENTS } from './credential-change';

/**
 * Keeps `verify_schedule` from the connection streams: every credential without expiry (whatever its kind; whether
 * its service declares a verification call is looked up when it is due), gone once revoked, replaced or deleted,
 * or once a refresh gives it an expiry (the refresh schedule then watches it).
 */
@Injectable()
export class VerifyScheduleProjection implements Projection {
  readonly name = 'verify-schedule';
  readonly category = 'connection';
  readonly handles = CREDENTIAL_EVENTS;
  readonly tables = ['verify_schedule'];

  constructor(private readonly schedule: VerifySchedule) {}

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const { retired, issued } = credentialChange(recorded);
    if (retired.length > 0) await this.schedule.removeAll(manager, retired);
    if (!issued) return;
    if (issued.expiresAt) return this.schedule.remove(issued.credentialRef, manager);
    await this.schedule.add(manager, { ...issued, since: issued.issuedAt });
  }
}
