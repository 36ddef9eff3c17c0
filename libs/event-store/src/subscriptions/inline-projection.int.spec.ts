import type { Decider, Event } from '@plugboard/contracts';
import { commandHandlerFor } from '../command-handler';
import { storeFixture, type StoreFixture } from '../test-support/event-store.fixture';
import { rebuildProjection, type Projection } from './projection';

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
});
