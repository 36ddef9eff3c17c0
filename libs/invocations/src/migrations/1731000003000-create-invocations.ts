import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who called what through which connection, and how it went: no secrets, no bodies, no query values. */
export class CreateInvocations1731000003000 implements MigrationInterface {
  name = 'CreateInvocations1731000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE invocations (
        id bigserial PRIMARY KEY,
        org_id text NOT NULL,
        user_id text NOT NULL,
        connection text NOT NULL,
        method text NOT NULL,
        host text,
        path text,
        status integer,
        error_code text,
        latency_ms integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX invocations_by_connection ON invocations (org_id, connection, at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE invocations`);
  }
}
