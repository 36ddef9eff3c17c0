import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keys bound to their subject: a person's key carries its user (and acts as that user only), a product's key has
 * none (it names the user it acts for). Every key made before is a product's key: that is how they were used.
 * Also the one-time sign-in links of embedded mode, stored as SHA-256 only, each usable once before it expires.
 */
export class BindKeysToSubjects1731000000300 implements MigrationInterface {
  name = 'BindKeysToSubjects1731000000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN user_id text`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN act_as_any boolean NOT NULL DEFAULT true`);
    // From now on every key says what it is: no default decides for a new one.
    await q.query(`ALTER TABLE api_keys ALTER COLUMN act_as_any DROP DEFAULT`);
    await q.query(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_subject CHECK (act_as_any = (user_id IS NULL))`);
    await q.query(`
      CREATE TABLE sign_in_links (
        token_hash text PRIMARY KEY,
        org_id text NOT NULL REFERENCES orgs(id),
        user_id text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sign_in_links`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_subject`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN act_as_any`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN user_id`);
  }
}
