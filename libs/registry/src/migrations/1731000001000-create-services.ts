import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateServices1731000001000 implements MigrationInterface {
  name = 'CreateServices1731000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE services (
        org_id text NOT NULL,
        link_name text NOT NULL,
        name text NOT NULL,
        auth_type text NOT NULL,
        base_url text,
        allowed_hosts jsonb NOT NULL DEFAULT '[]',
        auth_config jsonb,
        owner text NOT NULL,
        connection_count integer NOT NULL DEFAULT 0,
        revision integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, link_name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE services`);
  }
}
