import type { Decider, Event } from '@plugboard/contracts';
import { commandHandlerFor } from '../command-handler';
import { storeFixture, type StoreFixture } from '../test-support/event-store.fixture';
import { CatchUpSubscription } from './catch-up';
import { projectionHandler, rebuildProjection, takeOverFromSubscription, type Projection } from './projection';

type Counted = Event & { type: 'Counted'; data: { stream: string; by: number } };
interface Count {
  stream: string;
  by: number;
}

const counter: Decider<Count, Counted, number> = {
  decide: (command) => [{ type: 'Counted', data: { stream: command.stream, by: command.by } }],
  evolve: (total, event) => total + event.data.by,
  initialState: () => 0,
};

/** Per stream: the sum of its counts and how many there were, written by the commands themselves. */
const totals: Projection = {
  name: 'inline-totals',
  category: 'total',
  handles: ['Counted'],
  tables: ['inline_totals'],
  inline: true,
  async apply(event, manager) {
    await manager.query(
      `INSERT INTO inline_totals (stream_id, total, events) VALUES ($1, $2, 1)
       ON CONFLICT (stream_id) DO UPDATE SET total = inline_totals.total + $2, events = inline_totals.events + 1`,
      [event.streamId, (event.data as Counted['data']).by],
    );
  },
};

const counts = commandHandlerFor(counter, (command: Count) => `total-${command.stream}`, { inline: totals });

/** Per stream: its last count and version, set from each event (as the connections and services read models are). */
const latest: Projection = {
  name: 'latest',
  category: 'total',
  handles: ['Counted'],
  tables: ['latest_counts'],
  inline: true,
  async apply(event, manager) {
    await manager.query(
      `INSERT INTO latest_counts (stream_id, last, version) VALUES ($1, $2, $3) ON CONFLICT (stream_id) DO UPDATE SET last = $2, version = $3`,
      [event.streamId, (event.data as Counted['data']).by, event.streamVersion],
    );
  },
};
const latestCounts = commandHandlerFor(counter, (command: Count) => `total-${command.stream}`, { inline: latest });

describe('inline projections (PostgreSQL)', () => {
  let f: StoreFixture;
  beforeEach(async () => {
    f = await storeFixture();
    await f.dataSource.query(`CREATE TABLE inline_totals (stream_id text PRIMARY KEY, total int NOT NULL, events int NOT NULL)`);
  });
  afterEach(() => f.close());

  const row = async (stream: string) => (await f.dataSource.query(`SELECT total, events FROM inline_totals WHERE stream_id = $1`, [`total-${stream}`]))[0];

  it("shows each command's write once its command has returned, with 8 writers at once", async () => {
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 1; i <= 25; i++) {
          await counts.handle(f.store, { stream: `s${writer}`, by: i });
          // Read-your-writes without waiting for anything: the read model committed with the event.
          expect(await row(`s${writer}`)).toEqual({ total: (i * (i + 1)) / 2, events: i });
        }
      }),
    );
  }, 60_000);

  it('rebuilds while commands run, losing and doubling none of them', async () => {
    let writing = true;
    const writers = Array.from({ length: 6 }, async (_, writer) => {
      let done = 0;
      while (writing || done < 20) {
        await counts.handle(f.store, { stream: `w${writer}`, by: 1 });
        done += 1;
      }
      return done;
    });
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await rebuildProjection(f.store, totals);
    }
    writing = false;
    const done = await Promise.all(writers);
    const rows = await f.dataSource.query(`SELECT stream_id, total, events FROM inline_totals ORDER BY stream_id`);
    expect(rows).toEqual(done.map((n, writer) => ({ stream_id: `total-w${writer}`, total: n, events: n })));
    await rebuildProjection(f.store, totals);
    expect(await f.dataSource.query(`SELECT stream_id, total, events FROM inline_totals ORDER BY stream_id`)).toEqual(rows);
  }, 60_000);

  it('takes a read model over from the subscription that built it: what it had not applied yet, once, then retires it', async () => {
    await f.dataSource.query(`CREATE TABLE latest_counts (stream_id text PRIMARY KEY, last int NOT NULL, version int NOT NULL)`);
    // An earlier version: a subscription built the read model, and stopped behind the log.
    for (let i = 1; i <= 3; i++) await f.store.append('total-a', i - 1, [{ type: 'Counted', data: { stream: 'a', by: i } }]);
    await new CatchUpSubscription(f.store, projectionHandler(latest)).catchUp();
    await f.store.append('total-a', 3, [{ type: 'Counted', data: { stream: 'a', by: 4 } }]);
    await f.store.append('total-b', 0, [{ type: 'Counted', data: { stream: 'b', by: 1 } }]);
    // This version's commands already wrote some inline before the take-over.
    await latestCounts.handle(f.store, { stream: 'c', by: 7 });
    await latestCounts.handle(f.store, { stream: 'a', by: 5 });
    const rows = () => f.dataSource.query(`SELECT stream_id, last, version FROM latest_counts ORDER BY stream_id`);
    expect(await rows()).toEqual([
      { stream_id: 'total-a', last: 5, version: 5 },
      { stream_id: 'total-c', last: 7, version: 1 },
    ]);

    await takeOverFromSubscription(f.store, latest);
    const expected = [
      { stream_id: 'total-a', last: 5, version: 5 },
      { stream_id: 'total-b', last: 1, version: 1 },
      { stream_id: 'total-c', last: 7, version: 1 },
    ];
    expect(await rows()).toEqual(expected);
    expect(await f.dataSource.query(`SELECT name FROM subscription_checkpoints WHERE name = 'projection:latest'`)).toEqual([]);
    // Taken over once: a second start changes nothing, and the rebuilt read model is the same.
    await f.store.append('total-b', 1, [{ type: 'Counted', data: { stream: 'b', by: 2 } }]);
    await takeOverFromSubscription(f.store, latest);
    expect(await rows()).toEqual(expected);
    await rebuildProjection(f.store, latest);
    expect(await rows()).toEqual([expected[0], { stream_id: 'total-b', last: 2, version: 2 }, expected[2]]);
  });
});
