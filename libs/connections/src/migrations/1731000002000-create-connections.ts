import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The connections read model: one row per connection, one per credential (the connection's own, or a user's). */
export class CreateConnections1731000002000 implements MigrationInterface {
  name = 'CreateConnections1731000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        org_id text NOT NULL,
        link_name text NOT NULL,
        name text NOT NULL,
        service text NOT NULL,
        service_type text NOT NULL,
        auth_type text NOT NULL,
        scopes jsonb NOT NULL DEFAULT '[]',
        parameters jsonb NOT NULL DEFAULT '{}',
        use_login_user_credentials boolean NOT NULL,
        internal boolean NOT NULL,
        owner text NOT NULL,
        reauthorization_required boolean NOT NULL DEFAULT false,
        revision integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, link_name)
      )`);
    await q.query(`CREATE INDEX connections_by_service ON connections (org_id, service)`);
    await q.query(`
      CREATE TABLE connection_credentials (
        org_id text NOT NULL,
        link_name text NOT NULL,
        user_key text NOT NULL,
        status text NOT NULL,
        credential_ref uuid NOT NULL,
        revoked_reason text,
        granted_scopes jsonb,
        expires_at timestamptz,
        last_authorized_at timestamptz NOT NULL,
        last_refreshed_at timestamptz,
        PRIMARY KEY (org_id, link_name, user_key),
        FOREIGN KEY (org_id, link_name) REFERENCES connections (org_id, link_name) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX connection_credentials_by_user ON connection_credentials (org_id, user_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE connection_credentials`);
    await q.query(`DROP TABLE connections`);
  }
}
