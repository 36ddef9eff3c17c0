/**
 * Append throughput and projection lag: N writers append one event at a time to their own streams for a fixed
 * time while a projection (one row upserted per event, as read models do) follows the log live.
 *   npm run bench:append -- --writers 20 --seconds 10
 * Prints events/s appended and the lag from append to projection (p50/p99/max), and the peer measured in the same
 * run: the same writers each INSERTing one row at a time into a plain table with the same key (stream, version) and a
 * jsonb column, through the same pool: what PostgreSQL gives on this machine before any event-store work.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { CatchUpSubscription, EventLogNotifier, EventStore, eventStoreMigrations } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase } from '@plugboard/testing';

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { writers: { type: 'string', default: '20' }, seconds: { type: 'string', default: '10' } } });
  const writers = Number(values.writers);
  const seconds = Number(values.seconds);
  const db = await createTestDatabase();
  await runMigrations(db.url, eventStoreMigrations);
  const dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: writers + 4 })).initialize();
  await dataSource.query(`CREATE TABLE bench_projection (stream_id text PRIMARY KEY, last_version integer NOT NULL)`);
  const notifier = new EventLogNotifier(db.url);
  await notifier.start();
  const store = new EventStore(dataSource, notifier);

  const lags: number[] = [];
  let projected = 0;
  const projection = new CatchUpSubscription(
    store,
    {
      name: 'bench',
      async handle(events, manager) {
        const streams = [...new Map(events.map((e) => [e.streamId, e.streamVersion])).entries()];
        await manager.query(
          `INSERT INTO bench_projection (stream_id, last_version) SELECT * FROM unnest($1::text[], $2::int[])
           ON CONFLICT (stream_id) DO UPDATE SET last_version = excluded.last_version`,
          [streams.map(([s]) => s), streams.map(([, v]) => v)],
        );
        const now = Date.now();
        for (const e of events) lags.push(now - (e.data as { t: number }).t);
        projected += events.length;
      },
    },
    notifier,
    { batchSize: 500 },
  );
  await projection.start();

  let appended = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let version = 0; Date.now() < deadline; version++) {
        await store.append(`bench-${w}`, version, [{ type: 'Benchmarked', data: { t: Date.now() } }]);
        appended++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  while (projected < appended) await new Promise((r) => setTimeout(r, 10));
  await projection.stop();
  await notifier.stop();

  await dataSource.query(`CREATE TABLE bench_peer (stream_id text NOT NULL, version integer NOT NULL, data jsonb NOT NULL, PRIMARY KEY (stream_id, version))`);
  let inserted = 0;
  const peerStarted = Date.now();
  const peerDeadline = peerStarted + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let version = 0; Date.now() < peerDeadline; version++) {
        await dataSource.query(`INSERT INTO bench_peer (stream_id, version, data) VALUES ($1, $2, $3)`, [`bench-${w}`, version, JSON.stringify({ t: Date.now() })]);
        inserted++;
      }
    }),
  );
  const peerElapsed = (Date.now() - peerStarted) / 1000;
  await dataSource.destroy();
  await db.drop();

  const sorted = lags.sort((a, b) => a - b);
  const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(28)} ${value}\n`);
  line('writers', String(writers));
  line('events appended', String(appended));
  line('append rate', `${Math.round(appended / elapsed)} events/s`);
  line('peer: plain INSERTs', `${Math.round(inserted / peerElapsed)} rows/s`);
  line('projection lag p50', `${percentile(sorted, 50)} ms`);
  line('projection lag p99', `${percentile(sorted, 99)} ms`);
  line('projection lag max', `${sorted[sorted.length - 1]} ms`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
