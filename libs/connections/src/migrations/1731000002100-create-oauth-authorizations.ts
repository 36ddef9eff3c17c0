import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Authorizations under way (OAuth 2 `state`, OAuth 1.0a request token), each usable once until it expires. The key
 * is a SHA-256 of the state or request token; the PKCE verifier or request-token secret is in the vault.
 */
export class CreateOAuthAuthorizations1731000002100 implements MigrationInterface {
  name = 'CreateOAuthAuthorizations1731000002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oauth_authorizations (
        key_hash text PRIMARY KEY,
        protocol text NOT NULL CHECK (protocol IN ('oauth1', 'oauth2')),
        org_id text NOT NULL,
        user_id text NOT NULL,
        link_name text NOT NULL,
        secret_ref uuid,
        redirect_uri text NOT NULL,
        return_url text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oauth_authorizations`);
  }
}
