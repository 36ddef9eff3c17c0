import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which door each call came in by (`invoke`, `proxy` or `mcp`), so an org can tell its agents' calls from its
 * products'. Rows written before this migration keep null: their door was not recorded.
 */
export class AddInvocationEntry1731000003100 implements MigrationInterface {
  name = 'AddInvocationEntry1731000003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invocations ADD COLUMN entry text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invocations DROP COLUMN entry`);
  }
}
