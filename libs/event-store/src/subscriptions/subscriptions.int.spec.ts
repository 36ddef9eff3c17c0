import path from 'node:path';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@plugboard/contracts';
import { eventually, runEntry } from '@plugboard/testing';
import { EventLogNotifier } from '../notifier';
import { compareLogPositions } from '../position';
import { storeFixture, type StoreFixture } from '../test-support/event-store.fixture';
import { CatchUpSubscription, readCheckpoint, type SubscriptionHandler } from './catch-up';
import { rebuildProjection, type Projection } from './projection';

function recorder(name: string, options: Partial<SubscriptionHandler> = {}) {
  const seen: RecordedEvent[] = [];
  const handler: SubscriptionHandler = {
    name,
    ...options,
    async handle(events) {
      seen.push(...events);
    },
  };
  return { seen, handler };
}

const logOrder = (a: RecordedEvent, b: RecordedEvent) => compareLogPositions(a, b);

describe('catch-up subscriptions (PostgreSQL)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await storeFixture()));
  afterEach(() => f.close());

  it('sees every event of 20 concurrent writers × 200 events exactly once, in log order, while they write', async () => {
    const { seen, handler } = recorder('all');
    const subscription = new CatchUpSubscription(f.store, handler, f.notifier, { batchSize: 100 });
    await subscription.start();
    await Promise.all(
      Array.from({ length: 20 }, async (_, writer) => {
        for (let i = 0; i < 200; i++) await f.store.append(`writer-${writer}`, i, [{ type: 'Written', data: { writer, i } }]);
      }),
    );
    await eventually(() => expect(seen).toHaveLength(4000), 60_000);
    await subscription.stop();

    expect(new Set(seen.map((e) => e.id)).size).toBe(4000);
    expect([...seen].sort(logOrder)).toEqual(seen);
    const { events: log } = await f.store.readAll({ limit: 5000 });
    expect(seen.map((e) => e.id)).toEqual(log.map((e) => e.id));
    for (let writer = 0; writer < 20; writer++) {
      expect(seen.filter((e) => e.streamId === `writer-${writer}`).map((e) => e.streamVersion)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
  }, 90_000);

  it('never skips an event whose transaction commits after a later position is visible', async () => {
    const { seen, handler } = recorder('gaps');
    const subscription = new CatchUpSubscription(f.store, handler);
    const slow = new Client({ connectionString: f.db.url });
    await slow.connect();
    try {
      // The slow writer takes a lower position first and commits last: the classic gap.
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO events (event_id, stream_id, stream_version, type, data) VALUES (gen_random_uuid(), 'slow-1', 1, 'Slow', '{}')`);
      await f.store.append('fast-1', 0, [{ type: 'Fast', data: {} }]);
      await subscription.poll();
      expect(seen.map((e) => e.type)).toEqual([]);

      await slow.query('COMMIT');
      await subscription.catchUp();
      expect(seen.map((e) => e.type)).toEqual(['Slow', 'Fast']);

      // A transaction that started first but writes later, with a higher position: also delivered once.
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      await f.store.append('fast-2', 0, [{ type: 'Fast', data: {} }]);
      await slow.query(`INSERT INTO events (event_id, stream_id, stream_version, type, data) VALUES (gen_random_uuid(), 'slow-2', 1, 'Slow', '{}')`);
      await subscription.poll();
      expect(seen).toHaveLength(2);
      await slow.query('COMMIT');
      await subscription.catchUp();
      expect(seen.map((e) => `${e.type}:${e.streamId}`)).toEqual(['Slow:slow-1', 'Fast:fast-1', 'Slow:slow-2', 'Fast:fast-2']);
      expect(new Set(seen.map((e) => e.id)).size).toBe(4);
    } finally {
      await slow.end();
    }
  });

  it('delivers live, through NOTIFY, what another process appends, with no polling', async () => {
    const { seen, handler } = recorder('live');
    const subscription = new CatchUpSubscription(f.store, handler, f.notifier, { pollIntervalMs: 600_000 });
    await subscription.start();
    const other = await f.connectAnother();
    await other.store.append('elsewhere-1', 0, [{ type: 'FromAfar', data: {} }]);
    await eventually(() => expect(seen.map((e) => e.type)).toEqual(['FromAfar']), 15_000); // generous: a busy server's CREATE DATABASE elsewhere holds the horizon back
    await subscription.stop();
  });

  it('wakes another process through NOTIFY, and this one once for its own append (not again for its own NOTIFY)', async () => {
    const elsewhere = new EventLogNotifier(f.db.url);
    await elsewhere.start();
    try {
      let here = 0;
      let there = 0;
      f.notifier.onAppend(() => here++);
      elsewhere.onAppend(() => there++);
      await f.store.append('woken-1', 0, [{ type: 'Woke', data: {} }]);
      await eventually(() => expect(there).toBe(1), 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // our own NOTIFY reached us too by now, if it would
      expect(here).toBe(1);
    } finally {
      await elsewhere.stop();
    }
  });

  it('filters by category and event type, and still moves its checkpoint past the others', async () => {
    const { seen, handler } = recorder('connections-only', { category: 'connection', eventTypes: ['ConnectionCreated'] });
    await f.store.append('service-a', 0, [{ type: 'ServiceCreated', data: {} }]);
    await f.store.append('connection-a', 0, [{ type: 'ConnectionCreated', data: {} }, { type: 'ConnectionRevoked', data: {} }]);
    const last = await f.store.append('connectionx-b', 0, [{ type: 'ConnectionCreated', data: {} }]);
    const subscription = new CatchUpSubscription(f.store, handler);
    await subscription.start();
    await subscription.catchUp();
    await subscription.stop();
    expect(seen.map((e) => `${e.streamId}:${e.type}`)).toEqual(['connection-a:ConnectionCreated']);
    // Its checkpoint moves within its category only: not up to an event of another one.
    expect(compareLogPositions(await readCheckpoint(f.dataSource.manager, 'connections-only'), last.logPosition)).toBeLessThan(0);
    const revoked = await f.store.append('connection-a', 2, [{ type: 'ConnectionRevoked', data: {} }]);
    await new CatchUpSubscription(f.store, handler).catchUp();
    expect(await readCheckpoint(f.dataSource.manager, 'connections-only')).toEqual(revoked.logPosition);
  });

  it('applies each effect once when the subscriber is killed between its write and its checkpoint', async () => {
    await f.dataSource.query(`CREATE TABLE effects (event_id uuid NOT NULL, n integer NOT NULL)`);
    for (let n = 1; n <= 10; n++) await f.store.append(`work-${n}`, 0, [{ type: 'Work', data: { n, crash: n === 6 } }]);
    const script = path.join(__dirname, '../test-support/effect-subscriber.ts');
    const crashing = runEntry(path.relative(process.cwd(), script), { DATABASE_URL: f.db.url, CRASH_ON: '6', BATCH_SIZE: '2' });
    expect(await crashing.exited).toBe('SIGKILL');
    const [{ count: afterCrash }] = await f.dataSource.query(`SELECT count(*)::int AS count FROM effects`);
    expect(afterCrash).toBe(4);

    const restarted = runEntry(path.relative(process.cwd(), script), { DATABASE_URL: f.db.url, CRASH_ON: '', BATCH_SIZE: '2' });
    expect(await restarted.exited).toBe(0);
    const rows: { n: number; times: number }[] = await f.dataSource.query(`SELECT n, count(*)::int AS times FROM effects GROUP BY n ORDER BY n`);
    expect(rows).toEqual(Array.from({ length: 10 }, (_, i) => ({ n: i + 1, times: 1 })));
  }, 60_000);

  it('rebuilds a projection from position 0 into exactly what it built incrementally', async () => {
    await f.dataSource.query(`CREATE TABLE stream_totals (stream_id text PRIMARY KEY, total integer NOT NULL, revision integer NOT NULL)`);
    const totals: Projection = {
      name: 'stream-totals',
      handles: ['Counted'],
      tables: ['stream_totals'],
      async apply(event, manager: EntityManager) {
        await manager.query(
          `INSERT INTO stream_totals (stream_id, total, revision) VALUES ($1, $2, $3)
           ON CONFLICT (stream_id) DO UPDATE SET total = stream_totals.total + $2, revision = $3`,
          [event.streamId, (event.data as { by: number }).by, event.streamVersion],
        );
      },
    };
    const { projectionHandler } = await import('./projection');
    const live = new CatchUpSubscription(f.store, projectionHandler(totals), f.notifier);
    await live.start();
    await Promise.all(
      Array.from({ length: 5 }, async (_, s) => {
        for (let i = 0; i < 40; i++) await f.store.append(`total-${s}`, i * 2, [{ type: 'Counted', data: { by: i + s } }, { type: 'Ignored', data: {} }]);
      }),
    );
    const last = await f.store.append('total-0', 80, [{ type: 'Counted', data: { by: 1 } }]);
    await eventually(async () => expect(compareLogPositions(await readCheckpoint(f.dataSource.manager, 'projection:stream-totals'), last.logPosition)).toBeGreaterThanOrEqual(0), 10_000);
    const incremental = await f.dataSource.query(`SELECT * FROM stream_totals ORDER BY stream_id`);
    expect(incremental).toHaveLength(5);

    await f.dataSource.query(`UPDATE stream_totals SET total = -1`);
    await rebuildProjection(f.store, totals);
    await live.stop();
    expect(await f.dataSource.query(`SELECT * FROM stream_totals ORDER BY stream_id`)).toEqual(incremental);
  });

  it('lets only one replica of a subscription apply a batch at a time', async () => {
    await f.dataSource.query(`CREATE TABLE applied (event_id uuid NOT NULL)`);
    const handler: SubscriptionHandler = {
      name: 'replicated',
      async handle(events, manager) {
        for (const e of events) await manager.query(`INSERT INTO applied (event_id) VALUES ($1)`, [e.id]);
      },
    };
    const replicas = [new CatchUpSubscription(f.store, handler, f.notifier, { batchSize: 7 }), new CatchUpSubscription(f.store, handler, f.notifier, { batchSize: 7 })];
    await Promise.all(replicas.map((r) => r.start()));
    for (let i = 0; i < 300; i++) await f.store.append(`r-${i % 7}`, 'any', [{ type: 'Tick', data: { i } }]);
    await eventually(async () => {
      const [{ total, distinct }] = await f.dataSource.query(`SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM applied`);
      expect({ total, distinct }).toEqual({ total: 300, distinct: 300 });
    }, 20_000);
    await Promise.all(replicas.map((r) => r.stop()));
  });
  it('takes each event of its types once, passing the others by, and has its checkpoint at the head of the log once stopped', async () => {
    const { seen, handler } = recorder('typed', { eventTypes: ['Wanted'] });
    const passed: RecordedEvent[] = [];
    const start = () => new CatchUpSubscription(f.store, handler, f.notifier, { onBatch: (events) => passed.push(...events) });
    const subscription = start();
    await subscription.start();
    for (let i = 0; i < 40; i++) {
      await f.store.append(`typed-${i}`, 0, [{ type: i % 10 === 9 ? 'Wanted' : 'Other', data: { i } }]);
      await f.store.append(`elsewhere-${i}`, 0, [{ type: 'Unrelated', data: { i } }]);
    }
    await eventually(() => expect(passed).toHaveLength(80));
    await subscription.stop();
    expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([9, 19, 29, 39]);
    expect(await readCheckpoint(f.store.dataSource.manager, 'typed')).toEqual(await f.store.head());

    // Started again, it has nothing left to take.
    const again = start();
    await again.start();
    await f.store.append('typed-last', 0, [{ type: 'Wanted', data: { i: 40 } }]);
    await eventually(() => expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([9, 19, 29, 39, 40]));
    await again.stop();
  });
});
