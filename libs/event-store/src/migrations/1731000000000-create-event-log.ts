import type { MigrationInterface, QueryRunner } from 'typeorm';
import { IndexEventsByOrg1731000000010 } from './1731000000010-index-events-by-org';

/**
 * The event log and the subscription checkpoints. `transaction_id` records the writing transaction so that
 * readers can wait for every older transaction to finish before they pass a position (see catch-up.ts).
 */
export class CreateEventLog1731000000000 implements MigrationInterface {
  name = 'CreateEventLog1731000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        global_position bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version integer NOT NULL,
        category text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await q.query(`CREATE INDEX events_log_order ON events (transaction_id, global_position)`);
    await q.query(`CREATE INDEX events_category_order ON events (category, transaction_id, global_position)`);
    await q.query(`
      CREATE TABLE subscription_checkpoints (
        name text PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT '0',
        position bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE subscription_checkpoints`);
    await q.query(`DROP TABLE events`);
  }
}

export const eventStoreMigrations = [CreateEventLog1731000000000, IndexEventsByOrg1731000000010];
