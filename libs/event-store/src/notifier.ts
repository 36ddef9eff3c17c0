import { EventEmitter } from 'node:events';
import { Client } from 'pg';

const CHANNEL = 'plugboard_events';

/**
 * Wakes subscribers when the log grows, without polling. Appends in this process wake local subscribers at once;
 * other processes hear a NOTIFY. The NOTIFY is sent after commit and coalesced (at most one in flight), because a
 * NOTIFY inside every append transaction would serialise all commits on PostgreSQL's notification queue lock.
 */
export class EventLogNotifier {
  private readonly emitter = new EventEmitter();
  private client?: Client;
  private notifyInFlight = false;
  private notifyAgain = false;

  constructor(private readonly databaseUrl: string) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'plugboard-notifier' });
    // A lost listener connection only delays delivery until the periodic catch-up; never crash the process for it.
    client.on('error', () => undefined);
    await client.connect();
    // Our own NOTIFY comes back to us too: poke() has already woken this process's subscribers for it.
    const [{ pid }] = (await client.query(`SELECT pg_backend_pid() AS pid`)).rows;
    client.on('notification', (message) => message.processId !== pid && this.emitter.emit('append'));
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  /** Calls `listener` whenever events may have been appended; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.emitter.on('append', listener);
    return () => this.emitter.off('append', listener);
  }

  /** Tells every subscriber, here and in other processes, that events were committed. */
  poke(): void {
    this.emitter.emit('append');
    if (!this.client) return;
    if (this.notifyInFlight) {
      this.notifyAgain = true;
      return;
    }
    this.notifyInFlight = true;
    this.client
      .query(`NOTIFY ${CHANNEL}`)
      .catch(() => undefined)
      .finally(() => {
        this.notifyInFlight = false;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.poke();
        }
      });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
