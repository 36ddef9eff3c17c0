import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateVaultCanaries1731000000110 } from './1731000000110-create-vault-canaries';

/** Encrypted secrets. Nothing here is readable without the master key; deleting a row erases its secret for good. */
export class CreateVault1731000000100 implements MigrationInterface {
  name = 'CreateVault1731000000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE vault_entries (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        purpose text NOT NULL,
        key_id text NOT NULL,
        wrapped_key bytea NOT NULL,
        ciphertext bytea NOT NULL,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vault_entries`);
  }
}

export const vaultMigrations = [CreateVault1731000000100, CreateVaultCanaries1731000000110];
