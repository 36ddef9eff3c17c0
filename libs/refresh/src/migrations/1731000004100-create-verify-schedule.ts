import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `verify_schedule`: the credentials that never expire (API keys, Basic, OAuth 1.0a, OAuth 2 tokens without expiry)
 * and when each is next checked with its service's verification call; built by the verify-schedule projection.
 */
export class CreateVerifySchedule1731000004100 implements MigrationInterface {
  name = 'CreateVerifySchedule1731000004100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE verify_schedule (
        credential_ref uuid PRIMARY KEY,
        org_id text NOT NULL,
        link_name text NOT NULL,
        user_id text,
        next_check_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_checked_at timestamptz,
        last_error text
      )`);
    await q.query(`CREATE INDEX verify_schedule_next_check ON verify_schedule (next_check_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE verify_schedule`);
  }
}
