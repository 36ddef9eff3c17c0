import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The answers to commands sent with an `Idempotency-Key`, kept 24 hours so that a repeat gets the same answer. The
 * key is stored as its SHA-256 (a caller may use something it considers private); `request_hash` names the request
 * (method, path, user, body) it was first used for. `locked_until` bounds a request in progress: past it, the gateway
 * that held it is taken to have died and a repeat may run the command.
 */
export class CreateIdempotencyKeys1731000005000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1731000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        org_id text NOT NULL,
        key_hash text NOT NULL,
        request_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_progress', 'done')),
        status integer,
        body text,
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, key_hash)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
