import { ClientNats, ServerNats, type NatsContext, type NatsOptions } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from 'nats';

type Extras = Record<string, unknown>;
type Callback = Parameters<ServerNats['addHandler']>[1];

/**
 * Reconnect for as long as it takes: nats.js gives up after 10 attempts by default (about 20 s), which would
 * leave a running app deaf for good after a longer NATS outage.
 */
const RECONNECT_FOREVER = { maxReconnectAttempts: -1 } as const;

/**
 * NATS server whose subjects live under the deployment's namespace (`plugboard.registry.createService`), so
 * several deployments, or parallel test runs, can share one NATS without answering each other. Replicas of an app
 * share a queue group and split the requests between them.
 *
 * Closing is graceful: it unsubscribes first (NATS then sends new requests to the other replicas, or answers
 * "no responders" at once), lets every request it already received finish and publish its reply, and only then
 * closes the connection. Nest's own close drops the connection under the handlers still running.
 */
export class NamespacedNatsServer extends ServerNats {
  private readonly inFlight = new Set<Promise<void>>();
  /** Settled when a request's last reply packet has been published. */
  private readonly replies = new WeakMap<Msg, Promise<void>>();

  constructor(
    private readonly namespace: string,
    options: NatsOptions['options'],
  ) {
    super({ ...RECONNECT_FOREVER, ...options });
  }

  /**
   * Says it is listening only once NATS has its subscriptions (a flush round trip): until then a request meant for
   * this replica finds no responder, e.g. when it replaces one that is closing.
   */
  override start(callback: (error?: unknown) => void): void {
    const connection = this.unwrap<NatsConnection>();
    this.bindEvents(connection);
    connection.flush().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  override addHandler(pattern: unknown, callback: Callback, isEventHandler?: boolean, extras?: Extras): void {
    super.addHandler(`${this.namespace}.${String(pattern)}`, callback, isEventHandler, extras);
  }

  override async handleMessage(channel: string, natsMsg: Msg): Promise<void> {
    const work = (async () => {
      await super.handleMessage(channel, natsMsg);
      // Nest publishes the reply on a later tick than the handler's return.
      await this.replies.get(natsMsg);
    })();
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  override getPublisher(natsMsg: Msg, id: string, ctx: NatsContext): (response: { isDisposed?: boolean }) => unknown {
    const publish = super.getPublisher(natsMsg, id, ctx);
    let sent!: () => void;
    this.replies.set(natsMsg, new Promise<void>((resolve) => (sent = resolve)));
    return (response) => {
      try {
        return publish(response);
      } finally {
        if (response.isDisposed) sent();
      }
    };
  }

  override async close(): Promise<void> {
    let connection: NatsConnection | null = null;
    try {
      connection = this.unwrap<NatsConnection>();
    } catch {
      return super.close(); // never connected
    }
    // ServerNats keeps its subscriptions private; draining them is the documented way to stop taking work.
    const subscriptions = (this as unknown as { subscriptions: Subscription[] }).subscriptions;
    await Promise.all(subscriptions.map((s) => s.drain().catch(() => undefined)));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await connection.flush().catch(() => undefined);
    await super.close();
  }
}

/** The client side of NamespacedNatsServer. */
export class NamespacedNatsClient extends ClientNats {
  constructor(
    private readonly namespace: string,
    options: NatsOptions['options'],
  ) {
    super({ ...RECONNECT_FOREVER, ...options });
  }

  protected override normalizePattern(pattern: unknown): string {
    return `${this.namespace}.${super.normalizePattern(pattern as string)}`;
  }
}
