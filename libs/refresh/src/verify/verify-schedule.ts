import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventStore } from '@plugboard/event-store';
import { REFRESH_SETTINGS, type RefreshSettings } from '../refresh/refresh-settings';

/** A credential the verify scheduler took: due now, and pushed a lease's length ahead so other replicas pass it by. */
export interface DueCheck {
  credentialRef: string;
  orgId: string;
  linkName: string;
  userId: string | null;
  attempts: number;
}

/** The SQL of `verify_schedule`, shared by the projection that builds it and the checker. */
@Injectable()
export class VerifySchedule {
  constructor(
    private readonly store: EventStore,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
  ) {}

  /** A credential without expiry: first checked one interval after it was authorized (it was just checked then). */
  async add(manager: EntityManager, c: { streamId: string; credentialRef: string; orgId: string; linkName: string; userId: string | null; since: Date }): Promise<void> {
    await manager.query(
      `INSERT INTO verify_schedule (credential_ref, org_id, link_name, user_id, next_check_at)
       SELECT $1::uuid, $2::text, $3::text, $4::text, $5::timestamptz
        WHERE NOT EXISTS (SELECT 1 FROM events WHERE stream_id = $6 AND (type = 'ConnectionDeleted'
                OR (type = 'ConnectionRevoked' AND data->>'credentialRef' = $7)
                OR (type = 'ConnectionAuthorized' AND data->>'replacesCredentialRef' = $7)))
       ON CONFLICT (credential_ref) DO NOTHING`,
      [c.credentialRef, c.orgId, c.linkName, c.userId, new Date(c.since.getTime() + this.settings.verifyIntervalMs), c.streamId, c.credentialRef],
    );
  }

  /** Takes up to `limit` due checks (SKIP LOCKED: replicas claim side by side), each pushed a lease's length ahead. */
  async claim(limit: number): Promise<DueCheck[]> {
    const [rows] = (await this.store.dataSource.query(
      `UPDATE verify_schedule SET next_check_at = now() + $2 * interval '1 millisecond'
        WHERE credential_ref IN (
          SELECT credential_ref FROM verify_schedule WHERE next_check_at <= now()
           ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING credential_ref, org_id, link_name, user_id, attempts`,
      [limit, this.settings.leaseTtlMs],
    )) as [{ credential_ref: string; org_id: string; link_name: string; user_id: string | null; attempts: number }[], number];
    return rows.map((r) => ({ credentialRef: r.credential_ref, orgId: r.org_id, linkName: r.link_name, userId: r.user_id, attempts: r.attempts }));
  }

  /** Checked (or nothing to check with): next time in one interval. */
  async checked(credentialRef: string): Promise<void> {
    await this.store.dataSource.query(
      `UPDATE verify_schedule SET next_check_at = now() + $2 * interval '1 millisecond', attempts = 0, last_checked_at = now(), last_error = NULL WHERE credential_ref = $1`,
      [credentialRef, this.settings.verifyIntervalMs],
    );
  }

  /** No usable answer: try again after `delayMs`, and say why. */
  async inconclusive(credentialRef: string, attempts: number, delayMs: number, error: string): Promise<void> {
    await this.store.dataSource.query(
      `UPDATE verify_schedule SET next_check_at = now() + $2 * interval '1 millisecond', attempts = $3, last_checked_at = now(), last_error = $4 WHERE credential_ref = $1`,
      [credentialRef, delayMs, attempts, error],
    );
  }

  async remove(credentialRef: string, manager: EntityManager = this.store.dataSource.manager): Promise<void> {
    await manager.query(`DELETE FROM verify_schedule WHERE credential_ref = $1`, [credentialRef]);
  }

  async removeAll(manager: EntityManager, credentialRefs: string[]): Promise<void> {
    if (credentialRefs.length > 0) await manager.query(`DELETE FROM verify_schedule WHERE credential_ref = ANY($1::uuid[])`, [credentialRefs]);
  }
}
