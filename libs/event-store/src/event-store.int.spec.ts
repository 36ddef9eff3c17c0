import type { Decider } from '@plugboard/contracts';
import { eventually } from '@plugboard/testing';
import { commandHandlerFor, handleCommand } from './command-handler';
import { WrongExpectedVersionError } from './errors';
import type { EventStore } from './event-store';
import { storeFixture, type StoreFixture } from './test-support/event-store.fixture';

type Counted = { type: 'Counted'; data: { by: number } };
const counter: Decider<{ add: number; max: number }, Counted, number> = {
  initialState: () => 0,
  evolve: (total, event) => total + event.data.by,
  decide: (command, total) => {
    if (total + command.add > command.max) throw new Error('over the limit');
    return [{ type: 'Counted', data: { by: command.add } }];
  },
};

describe('EventStore (PostgreSQL)', () => {
  let f: StoreFixture;
  beforeAll(async () => (f = await storeFixture()));
  afterAll(() => f.close());

  it('appends to a new stream and reads it back in order, with metadata', async () => {
    const result = await f.store.append('cart-1', 0, [{ type: 'Counted', data: { by: 1 } }, { type: 'Counted', data: { by: 2 } }], { metadata: { orgId: 'o1', correlationId: 'c1' } });
    expect(result.nextExpectedVersion).toBe(2);
    const events = await f.store.readStream('cart-1');
    expect(events.map((e) => [e.streamVersion, e.type, e.data])).toEqual([
      [1, 'Counted', { by: 1 }],
      [2, 'Counted', { by: 2 }],
    ]);
    expect(events[0].metadata).toEqual({ orgId: 'o1', correlationId: 'c1' });
    expect(events[1].position).toBeGreaterThan(events[0].position);
  });

  it('refuses an append with a stale expected version and records nothing', async () => {
    await f.store.append('cart-2', 0, [{ type: 'Counted', data: { by: 1 } }]);
    await expect(f.store.append('cart-2', 0, [{ type: 'Counted', data: { by: 5 } }])).rejects.toMatchObject({ code: 'concurrency_conflict', expected: 0, actual: 1 });
    await expect(f.store.append('cart-2', 3, [{ type: 'Counted', data: { by: 5 } }])).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect((await f.store.readStream('cart-2')).map((e) => e.data)).toEqual([{ by: 1 }]);
  });

  it('lets exactly one of two racing appends win, every time', async () => {
    for (let round = 0; round < 25; round++) {
      const stream = `race-${round}`;
      const outcomes = await Promise.allSettled([
        f.store.append(stream, 0, [{ type: 'Counted', data: { by: 1 } }]),
        f.store.append(stream, 0, [{ type: 'Counted', data: { by: 2 } }]),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(WrongExpectedVersionError);
      expect(await f.store.readStream(stream)).toHaveLength(1);
    }
  });

  it('commits concurrent appends together yet settles each on its own: a stale one fails, the rest commit', async () => {
    await f.store.append('batch-stale', 0, [{ type: 'Counted', data: { by: 1 } }]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        i === 7 ? f.store.append('batch-stale', 0, [{ type: 'Counted', data: { by: 9 } }]) : f.store.append(`batch-${i}`, 0, [{ type: 'Counted', data: { by: i } }, { type: 'Counted', data: { by: i } }]),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(['concurrency_conflict']);
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ nextExpectedVersion: number }>).value.nextExpectedVersion)).toEqual(Array(29).fill(2));
    expect(await f.store.readStream('batch-stale')).toHaveLength(1);
    expect((await f.store.readStream('batch-12')).map((e) => e.streamVersion)).toEqual([1, 2]);
  });

  it('reads one org’s events in log order, and says where an event of that org sits', async () => {
    const counted = (by: number) => [{ type: 'Counted', data: { by } }];
    await f.store.append('tenant-a1', 0, counted(1), { metadata: { orgId: 'tenant-a' } });
    const other = await f.store.append('tenant-b1', 0, counted(2), { metadata: { orgId: 'tenant-b' } });
    await f.store.append('tenant-a2', 0, [...counted(3), ...counted(4)], { metadata: { orgId: 'tenant-a' } });
    // readAll returns only settled events: while another test file holds a transaction open on this server, they wait.
    const { events } = await eventually(async () => {
      const read = await f.store.readAll({ orgId: 'tenant-a' });
      expect(read.events.map((e) => e.data)).toEqual([{ by: 1 }, { by: 3 }, { by: 4 }]);
      return read;
    });
    expect(await f.store.logPositionOf(events[1].position, { orgId: 'tenant-a' })).toEqual({ transactionId: events[1].transactionId, position: events[1].position });
    expect(await f.store.logPositionOf(other.logPosition.position, { orgId: 'tenant-a' })).toBeNull();
    const rest = await f.store.readAll({ orgId: 'tenant-a', after: events[0], limit: 1 });
    expect(rest.events.map((e) => e.data)).toEqual([{ by: 3 }]);
  });

  it('folds a stream through a decider and retries a command that lost a race on the new state', async () => {
    await Promise.all(Array.from({ length: 10 }, () => handleCommand(f.store, 'counter-1', counter, { add: 1, max: 100 }, { retries: 20 })));
    const { state, version } = await f.store.aggregateStream('counter-1', counter);
    expect(state).toBe(10);
    expect(version).toBe(10);
    await expect(handleCommand(f.store, 'counter-1', counter, { add: 91, max: 100 })).rejects.toThrow('over the limit');
    expect((await f.store.aggregateStream('counter-1', counter)).state).toBe(10);
  });

  describe('a command handler bound to a decider', () => {
    const counters = commandHandlerFor(counter, (command) => `counter-${command.max}`);

    it('runs the precondition first in the command\'s transaction, and again whole when a version conflict retries it', async () => {
      await f.dataSource.query(`CREATE TABLE IF NOT EXISTS counter_locks (id text PRIMARY KEY)`);
      await f.dataSource.query(`INSERT INTO counter_locks VALUES ('lock-7') ON CONFLICT DO NOTHING`);
      let preconditions = 0;
      let raced = false;
      // Another writer appends between this command's read and its append, once.
      const racing: EventStore = Object.assign(Object.create(f.store), {
        async aggregateStream(...args: Parameters<EventStore['aggregateStream']>) {
          const read = await f.store.aggregateStream(...args);
          if (!raced) {
            raced = true;
            await f.store.append('counter-7', 'any', [{ type: 'Counted', data: { by: 1 } }]);
          }
          return read;
        },
      });
      const result = await counters.handle(racing, { add: 2, max: 7 }, {
        precondition: async (manager) => {
          preconditions += 1;
          await manager.query(`SELECT id FROM counter_locks WHERE id = 'lock-7' FOR UPDATE`);
        },
      });
      expect(preconditions).toBe(2);
      expect(result).toMatchObject({ state: 3, version: 2 });
    });

    it('writes nothing when the precondition refuses', async () => {
      await expect(counters.handle(f.store, { add: 1, max: 8 }, { precondition: async () => Promise.reject(new Error('moved')) })).rejects.toThrow('moved');
      expect(await f.store.readStream('counter-8')).toEqual([]);
    });

    it('joins the caller\'s transaction: its rollback takes the events with it', async () => {
      await expect(
        f.store.transaction(async (manager) => {
          await counters.handle(f.store, { add: 1, max: 9 }, { manager });
          throw new Error('caller failed');
        }),
      ).rejects.toThrow('caller failed');
      expect(await f.store.readStream('counter-9')).toEqual([]);
    });
  });
});
