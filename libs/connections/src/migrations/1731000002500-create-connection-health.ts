import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection health: `connections.degraded` follows ConnectionDegraded/ConnectionRecovered (the projection);
 * `connection_health` holds what the invocation log showed of each connection's calls (the health monitor), and
 * `connection_health_cursor` how far into that log the monitor has read.
 */
export class CreateConnectionHealth1731000002500 implements MigrationInterface {
  name = 'CreateConnectionHealth1731000002500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN degraded boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE connection_health (
        org_id text NOT NULL,
        link_name text NOT NULL,
        last_used_at timestamptz,
        last_error jsonb,
        consecutive_failures integer NOT NULL DEFAULT 0,
        PRIMARY KEY (org_id, link_name)
      )`);
    await q.query(`CREATE TABLE connection_health_cursor (id integer PRIMARY KEY CHECK (id = 1), last_invocation bigint NOT NULL)`);
    await q.query(`INSERT INTO connection_health_cursor (id, last_invocation) VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE connection_health_cursor`);
    await q.query(`DROP TABLE connection_health`);
    await q.query(`ALTER TABLE connections DROP COLUMN degraded`);
  }
}
