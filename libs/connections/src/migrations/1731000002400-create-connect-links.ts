import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connect links (single use, expiring, tied to org, connection and user; stored as the SHA-256 of their token), and
 * the browser binding of OAuth flows: each authorization under way keeps the SHA-256 of the cookie of the browser
 * that started it, and, when a connect link started it, which link.
 */
export class CreateConnectLinks1731000002400 implements MigrationInterface {
  name = 'CreateConnectLinks1731000002400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connect_links (
        token_hash text PRIMARY KEY,
        org_id text NOT NULL,
        link_name text NOT NULL,
        user_id text NOT NULL,
        return_url text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        browser_hash text,
        started_at timestamptz,
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX connect_links_expiry ON connect_links (expires_at)`);
    await q.query(`ALTER TABLE oauth_authorizations ADD COLUMN browser_hash text, ADD COLUMN connect_link text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_authorizations DROP COLUMN connect_link, DROP COLUMN browser_hash`);
    await q.query(`DROP TABLE connect_links`);
  }
}
