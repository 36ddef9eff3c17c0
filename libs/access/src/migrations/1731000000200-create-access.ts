import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BindKeysToSubjects1731000000300 } from './1731000000300-bind-keys-to-subjects';

/** Orgs and their API keys. A key is stored as its SHA-256 only; the key itself is shown once, at creation. */
export class CreateAccess1731000000200 implements MigrationInterface {
  name = 'CreateAccess1731000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE orgs (id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        org_id text NOT NULL REFERENCES orgs(id),
        role text NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
        key_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        label text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE orgs`);
  }
}

export const accessMigrations = [CreateAccess1731000000200, BindKeysToSubjects1731000000300];
