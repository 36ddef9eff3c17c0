import { CatchUpSubscription } from './subscriptions/catch-up';
import { storeFixture, type StoreFixture } from './test-support/event-store.fixture';

/*
 * Transaction ids and positions are numbers; read as text, "99" sorts after "557" and "9" after "11". These rows are
 * written with chosen transaction ids (all older than any running transaction, so visible to readers) that cross a
 * power of ten, which real logs do as they grow.
 */
const ROWS: [transactionId: number, position: number][] = [
  ...Array.from({ length: 12 }, (_, i): [number, number] => [i + 1, i + 1]),
  [99, 32],
  [100, 40],
  [557, 557],
];

describe('log order across powers of ten (PostgreSQL)', () => {
  let f: StoreFixture;
  beforeAll(async () => {
    f = await storeFixture();
    for (const [transactionId, position] of ROWS) {
      const stream = position % 2 === 0 ? `even-${position}` : `odd-${position}`;
      await f.dataSource.query(
        `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, data, transaction_id)
         VALUES ($1, gen_random_uuid(), $2, 1, 'Counted', '{}', $3::xid8)`,
        [position, stream, String(transactionId)],
      );
    }
    await f.dataSource.query(`SELECT setval(pg_get_serial_sequence('events', 'global_position'), 1000)`);
  });
  afterAll(() => f.close());

  it('finds the head of the log, and of a category, by number', async () => {
    expect(await f.store.head()).toEqual({ transactionId: '557', position: 557 });
    expect(await f.store.head('even')).toEqual({ transactionId: '100', position: 40 });
    expect(await f.store.head('odd')).toEqual({ transactionId: '557', position: 557 });
  });

  it('reads the whole log in pages of two, in order, with no gap and no repeat', async () => {
    const seen: number[] = [];
    let after = { transactionId: '0', position: 0 };
    for (;;) {
      const { events } = await f.store.readAll({ after, limit: 2 });
      if (events.length === 0) break;
      seen.push(...events.map((e) => e.position));
      after = events[events.length - 1];
    }
    expect(seen).toEqual(ROWS.map(([, position]) => position));
  });

  it('brings a subscription to the head through every event once', async () => {
    const handled: number[] = [];
    const subscription = new CatchUpSubscription(f.store, { name: 'log-order', handle: async (events) => void handled.push(...events.map((e) => e.position)) }, undefined, { batchSize: 3 });
    await subscription.catchUp(5000);
    expect(handled).toEqual(ROWS.map(([, position]) => position));
  });
});
