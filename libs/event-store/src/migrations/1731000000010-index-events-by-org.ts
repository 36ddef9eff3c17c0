import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log of one org in reading order, for the audit feed (`GET /v1/events`): without it a page of a small org's
 * events would scan every other org's events since the reader's place.
 */
export class IndexEventsByOrg1731000000010 implements MigrationInterface {
  name = 'IndexEventsByOrg1731000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_org_order ON events ((metadata->>'orgId'), transaction_id, global_position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX events_org_order`);
  }
}
