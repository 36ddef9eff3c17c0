import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One known value per master key id, sealed with that key: a start opens them to prove PLUGBOARD_MASTER_KEY is the
 * key the vault was sealed with, instead of failing every secret later (and sealing new ones with a wrong key).
 */
export class CreateVaultCanaries1731000000110 implements MigrationInterface {
  name = 'CreateVaultCanaries1731000000110';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE vault_canaries (
        key_id text PRIMARY KEY,
        sealed bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vault_canaries`);
  }
}
