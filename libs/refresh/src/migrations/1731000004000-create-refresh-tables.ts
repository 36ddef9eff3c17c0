import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `refresh_leases`: who refreshes a credential right now (one row per credential while a refresh runs; an expired
 * row may be taken over). `refresh_schedule`: the OAuth 2 credentials that expire, when each is due, and the
 * backoff after failures; built from the connection streams by the refresh-schedule projection.
 */
export class CreateRefreshTables1731000004000 implements MigrationInterface {
  name = 'CreateRefreshTables1731000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_leases (
        credential_ref uuid PRIMARY KEY,
        holder text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE refresh_schedule (
        credential_ref uuid PRIMARY KEY,
        org_id text NOT NULL,
        link_name text NOT NULL,
        user_id text,
        expires_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        cooldown_until timestamptz,
        last_error text
      )`);
    await q.query(`CREATE INDEX refresh_schedule_next_attempt ON refresh_schedule (next_attempt_at)`);
    await q.query(`CREATE INDEX refresh_schedule_expires ON refresh_schedule (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_schedule`);
    await q.query(`DROP TABLE refresh_leases`);
  }
}
