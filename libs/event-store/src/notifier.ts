import { EventEmitter } from 'node:events';
import { Client } from 'pg';

const CHANNEL = 'plugboard_events';

/**
 * Wakes subscribers when the log grows, without polling. Appends in this process wake local subscribers at once;
 * other processes hear a NOTIFY. The NOTIFY is sent after commit and coalesced (at most one in flight), because a
 * NOTIFY inside every append transaction would serialise all commits on PostgreSQL's notification queue lock.
 * A wake-up names the categories appended to when it knows them (its payload: `service,connection`; empty for "any"),
 * so a subscription of another category is not woken to read nothing.
 */
export class EventLogNotifier {
  private readonly emitter = new EventEmitter();
  private client?: Client;
  private notifyInFlight = false;
  /** What the next NOTIFY announces: categories, or every one (`any`); null when nothing is waiting to be sent. */
  private pending: Set<string> | 'any' | null = null;

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
    client.on('notification', (message) => message.processId !== pid && this.emitter.emit('append', message.payload ? message.payload.split(',') : undefined));
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  /** Calls `listener` whenever events may have been appended (to `categories`, when known); returns the unsubscribe function. */
  onAppend(listener: (categories?: readonly string[]) => void): () => void {
    this.emitter.on('append', listener);
    return () => this.emitter.off('append', listener);
  }

  /** Tells every subscriber, here and in other processes, that events were committed (to `categories`, when known). */
  poke(categories?: readonly string[]): void {
    this.emitter.emit('append', categories);
    if (!this.client) return;
    if (!categories) this.pending = 'any';
    else if (this.pending !== 'any') {
      const pending: Set<string> = this.pending ?? new Set();
      this.pending = pending;
      for (const category of categories) pending.add(category);
    }
    if (!this.notifyInFlight) this.notify();
  }

  private notify(): void {
    const client = this.client;
    if (!client || this.pending === null) return;
    const payload = this.pending === 'any' ? '' : [...this.pending].join(',');
    this.pending = null;
    this.notifyInFlight = true;
    client
      .query(`SELECT pg_notify($1, $2)`, [CHANNEL, payload])
      .catch(() => undefined)
      .finally(() => {
        this.notifyInFlight = false;
        this.notify();
      });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
