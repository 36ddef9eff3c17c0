import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Actor } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { LOGGER } from '@plugboard/runtime';

export interface Invocation {
  actor: Actor | null;
  connection: string;
  method: string;
  url: URL | null;
  status: number | null;
  errorCode: string | null;
  started: number;
}

/** The invocations table: who called what, how it went. Never secrets, bodies or query values. */
@Injectable()
export class InvocationLog {
  constructor(
    private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Written after the answer, so it never slows a call. */
  record(call: Invocation): void {
    if (!call.actor) return; // not authenticated: not an invocation of anyone's connection
    this.store.dataSource
      .query(`INSERT INTO invocations (org_id, user_id, connection, method, host, path, status, error_code, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        call.actor.orgId,
        call.actor.userId,
        call.connection,
        call.method,
        call.url?.host ?? null,
        call.url?.pathname ?? null,
        call.status,
        call.errorCode,
        Date.now() - call.started,
      ])
      .catch((error) => this.logger.warn({ err: error }, 'could not record an invocation'));
  }
}
