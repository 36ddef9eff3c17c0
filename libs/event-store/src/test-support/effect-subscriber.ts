/**
 * A subscriber process for the crash test: it records an effect row per event and, when it meets the event
 * numbered CRASH_ON, kills itself with SIGKILL after writing the effect and before the checkpoint commits.
 */
import { EventStore } from '../event-store';
import { CatchUpSubscription } from '../subscriptions/catch-up';
import { openDataSource } from './event-store.fixture';

async function main(): Promise<void> {
  const dataSource = await openDataSource(process.env.DATABASE_URL as string, 2);
  const store = new EventStore(dataSource);
  const crashOn = process.env.CRASH_ON ? Number(process.env.CRASH_ON) : null;
  const subscription = new CatchUpSubscription(
    store,
    {
      name: 'effects',
      async handle(events, manager) {
        for (const event of events) {
          const { n } = event.data as { n: number };
          await manager.query(`INSERT INTO effects (event_id, n) VALUES ($1, $2)`, [event.id, n]);
          if (n === crashOn) process.kill(process.pid, 'SIGKILL');
        }
      },
    },
    undefined,
    { batchSize: Number(process.env.BATCH_SIZE ?? 2) },
  );
  await dataSource.query(`INSERT INTO subscription_checkpoints (name) VALUES ('effects') ON CONFLICT DO NOTHING`);
  await subscription.catchUp();
  await dataSource.destroy();
}

// Nothing stays open once the catch-up is done, so the process ends by itself (exit code 0).
void main();
