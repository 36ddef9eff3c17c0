import { ClientNats, ServerNats, type NatsOptions } from '@nestjs/microservices';

type Extras = Record<string, unknown>;
type Callback = Parameters<ServerNats['addHandler']>[1];

/**
 * NATS server whose subjects live under the deployment's namespace (`plugboard.registry.createService`), so
 * several deployments, or parallel test runs, can share one NATS without answering each other. Replicas of an app
 * share a queue group and split the requests between them.
 */
export class NamespacedNatsServer extends ServerNats {
  constructor(
    private readonly namespace: string,
    options: NatsOptions['options'],
  ) {
    super(options ?? {});
  }

  override addHandler(pattern: unknown, callback: Callback, isEventHandler?: boolean, extras?: Extras): void {
    super.addHandler(`${this.namespace}.${String(pattern)}`, callback, isEventHandler, extras);
  }
}

/** The client side of NamespacedNatsServer. */
export class NamespacedNatsClient extends ClientNats {
  constructor(
    private readonly namespace: string,
    options: NatsOptions['options'],
  ) {
    super(options ?? {});
  }

  protected override normalizePattern(pattern: unknown): string {
    return `${this.namespace}.${super.normalizePattern(pattern as string)}`;
  }
}
