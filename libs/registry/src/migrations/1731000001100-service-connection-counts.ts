import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection counts move out of `services` into a table of their own: the services read model is now written inline
 * by the service commands, the counts still by a subscription to the connection streams. The new subscription starts
 * at position 0, so it counts every connection in the log again.
 */
export class ServiceConnectionCounts1731000001100 implements MigrationInterface {
  name = 'ServiceConnectionCounts1731000001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_connection_counts (
        org_id text NOT NULL,
        link_name text NOT NULL,
        connection_count integer NOT NULL DEFAULT 0,
        PRIMARY KEY (org_id, link_name)
      )`);
    await q.query(`ALTER TABLE services DROP COLUMN connection_count`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE services ADD COLUMN connection_count integer NOT NULL DEFAULT 0`);
    await q.query(`DROP TABLE service_connection_counts`);
  }
}
