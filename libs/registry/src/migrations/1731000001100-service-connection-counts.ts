import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection counts move out of `services` into a table of their own: the services read model is now written inline
 * by the service commands, the counts still by a subscription to the connection streams. On an upgraded database the
 * table starts as the services projection left its counts, and the new subscription where that one had got to (the
 * same log, the same order), so no count reads 0 while it catches up. `services.connection_count` stays, unread.
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
    await q.query(`INSERT INTO service_connection_counts (org_id, link_name, connection_count) SELECT org_id, link_name, connection_count FROM services WHERE connection_count <> 0`);
    await q.query(
      `INSERT INTO subscription_checkpoints (name, transaction_id, position, updated_at)
       SELECT 'projection:service-connection-counts', transaction_id, position, now() FROM subscription_checkpoints WHERE name = 'projection:services'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE service_connection_counts`);
  }
}
