import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection counts move out of `services` into a table of their own: the services read model is now written inline
 * by the service commands, the counts still by a subscription to the connection streams. The new subscription starts
 * at position 0, so it counts every connection in the log again. `services.connection_count` stays (unread) while
 * an earlier version's registry may still write it during an upgrade.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE service_connection_counts`);
  }
}
