import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Org webhooks as the outbox subscription knows them (from `webhook-*` streams; the secret is in the vault), and the
 * outbox of their deliveries: a row per (org, event), written with the subscription's checkpoint, sent by the
 * dispatcher, kept as the delivery log.
 */
export class CreateWebhooks1731000002200 implements MigrationInterface {
  name = 'CreateWebhooks1731000002200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        org_id text PRIMARY KEY,
        url text NOT NULL,
        events jsonb NOT NULL,
        secret_ref uuid NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        seq bigserial NOT NULL UNIQUE,
        org_id text NOT NULL,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        claim uuid,
        last_attempt_at timestamptz,
        last_status integer,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, event_id)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_log ON webhook_deliveries (org_id, seq DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
  }
}
