import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventStore } from '@plugboard/event-store';
import { dueAt } from './refresh-policy';
import { REFRESH_SETTINGS, type RefreshSettings } from './refresh-settings';

/** A credential the scheduler took: due now, and claimed for a lease's length so other replicas pass it by. */
export interface ClaimedCredential {
  credentialRef: string;
  orgId: string;
  linkName: string;
  userId: string | null;
  expiresAt: Date;
  attempts: number;
}

interface ClaimedRow {
  credential_ref: string;
  org_id: string;
  link_name: string;
  user_id: string | null;
  expires_at: Date;
  attempts: number;
}

/** The SQL of `refresh_schedule`, shared by the projection that builds it, the refresher and the scheduler. */
@Injectable()
export class RefreshSchedule {
  constructor(
    private readonly store: EventStore,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
  ) {}

  private get manager(): EntityManager {
    return this.store.dataSource.manager;
  }

  dueAt(credentialRef: string, expiresAt: Date, issuedAt: Date): Date {
    return dueAt(credentialRef, expiresAt, issuedAt, this.settings);
  }

  /**
   * Takes up to `limit` due credentials, most urgent first. SKIP LOCKED lets replicas claim side by side without
   * waiting on each other; pushing `next_attempt_at` one lease ahead keeps a claimed row from being claimed again,
   * and brings it back if this replica dies before it is done.
   */
  async claim(limit: number): Promise<ClaimedCredential[]> {
    const [rows] = (await this.manager.query(
      `UPDATE refresh_schedule SET next_attempt_at = now() + $2 * interval '1 millisecond'
        WHERE credential_ref IN (
          SELECT credential_ref FROM refresh_schedule WHERE next_attempt_at <= now()
           ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING credential_ref, org_id, link_name, user_id, expires_at, attempts`,
      // A little longer than a lease, so that when the claim runs out the lease of a holder that died has too.
      [limit, this.settings.leaseTtlMs + 1_000],
    )) as [ClaimedRow[], number];
    return rows.map((r) => ({ credentialRef: r.credential_ref, orgId: r.org_id, linkName: r.link_name, userId: r.user_id, expiresAt: r.expires_at, attempts: r.attempts }));
  }

  /** A newly authorized credential (a re-authorization replaces the one it retires). */
  async authorized(manager: EntityManager, c: { credentialRef: string; orgId: string; linkName: string; userId: string | null; expiresAt: Date; issuedAt: Date }): Promise<void> {
    const due = this.dueAt(c.credentialRef, c.expiresAt, c.issuedAt);
    await manager.query(
      `INSERT INTO refresh_schedule (credential_ref, org_id, link_name, user_id, expires_at, due_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (credential_ref) DO UPDATE SET expires_at = $5, due_at = $6, next_attempt_at = $6, attempts = 0, cooldown_until = NULL, last_error = NULL`,
      [c.credentialRef, c.orgId, c.linkName, c.userId, c.expiresAt, due],
    );
  }

  /**
   * A refresh recorded in the log. Only ever moves the expiry forward, so replaying an older event after the
   * refresher's own update (or a failure's backoff) changes nothing; and a credential its stream has since revoked,
   * replaced or deleted is not brought back.
   */
  async refreshedInLog(manager: EntityManager, c: { streamId: string; credentialRef: string; orgId: string; linkName: string; userId: string | null; expiresAt: Date; issuedAt: Date }): Promise<void> {
    const due = this.dueAt(c.credentialRef, c.expiresAt, c.issuedAt);
    await manager.query(
      `INSERT INTO refresh_schedule (credential_ref, org_id, link_name, user_id, expires_at, due_at, next_attempt_at)
       SELECT $1::uuid, $2::text, $3::text, $4::text, $5::timestamptz, $6::timestamptz, $6::timestamptz
        WHERE NOT EXISTS (SELECT 1 FROM events WHERE stream_id = $7 AND (type = 'ConnectionDeleted'
                OR (type = 'ConnectionRevoked' AND data->>'credentialRef' = $8)
                OR (type = 'ConnectionAuthorized' AND data->>'replacesCredentialRef' = $8)))
       ON CONFLICT (credential_ref) DO UPDATE SET expires_at = $5, due_at = $6, next_attempt_at = $6, attempts = 0, cooldown_until = NULL, last_error = NULL
        WHERE refresh_schedule.expires_at < $5`,
      [c.credentialRef, c.orgId, c.linkName, c.userId, c.expiresAt, due, c.streamId, c.credentialRef],
    );
  }

  /** The refresher's own update, in its write transaction, so the scheduler sees the new expiry at once. */
  async refreshed(manager: EntityManager, credentialRef: string, expiresAt: Date | null, issuedAt: Date): Promise<void> {
    if (!expiresAt) return this.remove(credentialRef, manager);
    const due = this.dueAt(credentialRef, expiresAt, issuedAt);
    await manager.query(
      `UPDATE refresh_schedule SET expires_at = $2, due_at = $3, next_attempt_at = $3, attempts = 0, cooldown_until = NULL, last_error = NULL WHERE credential_ref = $1`,
      [credentialRef, expiresAt, due],
    );
  }

  /** Someone else refreshed it: follow the expiry the vault now holds (forward only). */
  async alreadyFresh(credentialRef: string, expiresAt: Date): Promise<void> {
    const due = this.dueAt(credentialRef, expiresAt, new Date());
    await this.manager.query(
      `UPDATE refresh_schedule SET expires_at = $2, due_at = $3, next_attempt_at = $3, attempts = 0, cooldown_until = NULL, last_error = NULL
        WHERE credential_ref = $1 AND expires_at < $2`,
      [credentialRef, expiresAt, due],
    );
  }

  /**
   * A transient failure: one more attempt, the next one after `delayMs(attempts)`, and a cool-down until then during
   * which on-demand requests do not call the provider either. Returns the attempt count (1 when not scheduled).
   */
  async failed(manager: EntityManager, credentialRef: string, error: string, delayMs: (attempts: number) => number): Promise<{ attempts: number; retryAt: Date }> {
    const [row] = await manager.query(`SELECT attempts FROM refresh_schedule WHERE credential_ref = $1 FOR UPDATE`, [credentialRef]);
    const attempts = (row?.attempts ?? 0) + 1;
    const retryAt = new Date(Date.now() + delayMs(attempts));
    if (row) {
      await manager.query(`UPDATE refresh_schedule SET attempts = $2, next_attempt_at = $3, cooldown_until = $3, last_error = $4 WHERE credential_ref = $1`, [
        credentialRef,
        attempts,
        retryAt,
        error,
      ]);
    }
    return { attempts, retryAt };
  }

  async cooldownUntil(credentialRef: string): Promise<Date | null> {
    const [row] = await this.manager.query(`SELECT cooldown_until FROM refresh_schedule WHERE credential_ref = $1 AND cooldown_until > now()`, [credentialRef]);
    return row?.cooldown_until ?? null;
  }

  async remove(credentialRef: string, manager: EntityManager = this.manager): Promise<void> {
    await manager.query(`DELETE FROM refresh_schedule WHERE credential_ref = $1`, [credentialRef]);
  }

  async removeAll(manager: EntityManager, credentialRefs: string[]): Promise<void> {
    if (credentialRefs.length > 0) await manager.query(`DELETE FROM refresh_schedule WHERE credential_ref = ANY($1::uuid[])`, [credentialRefs]);
  }

  /** Credentials whose token expired before anyone refreshed it. */
  async overdue(): Promise<number> {
    const [row] = await this.manager.query(`SELECT count(*)::int AS n FROM refresh_schedule WHERE expires_at < now()`);
    return row.n;
  }
}
