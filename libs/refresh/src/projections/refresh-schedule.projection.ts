import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import type { Projection } from '@plugboard/event-store';
import { RefreshSchedule } from '../refresh/refresh-schedule';
import { credentialChange, CREDENTIAL_EVENTS } from './credential-change';

/**
 * Keeps `refresh_schedule` from the connection streams: every credential that expires (an OAuth 2 token with an
 * expiry; API keys, Basic and OAuth 1.0a credentials have none) with the time it is due, gone once revoked,
 * replaced or deleted. The due time is derived from the event alone, so a rebuild gives the same schedule.
 */
@Injectable()
export class RefreshScheduleProjection implements Projection {
  readonly name = 'refresh-schedule';
  readonly category = 'connection';
  readonly handles = CREDENTIAL_EVENTS;
  readonly tables = ['refresh_schedule'];

  constructor(private readonly schedule: RefreshSchedule) {}

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const { retired, issued } = credentialChange(recorded);
    if (retired.length > 0) await this.schedule.removeAll(manager, retired);
    if (!issued) return;
    if (!issued.expiresAt) return this.schedule.remove(issued.credentialRef, manager);
    const due = { ...issued, expiresAt: issued.expiresAt };
    if (issued.by === 'authorization') await this.schedule.authorized(manager, due);
    else await this.schedule.refreshedInLog(manager, due);
  }
}
