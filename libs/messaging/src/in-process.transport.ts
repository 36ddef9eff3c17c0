import { ClientProxy, Server, type CustomTransportStrategy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';

type Handler = NonNullable<ReturnType<Server['getHandlerByPattern']>>;

/**
 * The bus of the embedded mode: every app runs in one process and requests are function calls. Payloads are
 * copied through JSON, as they would be on the wire, so no app can hold another's objects.
 */
class InProcessBus {
  private readonly handlers = new Map<string, Handler>();

  register(subject: string, handler: Handler): void {
    this.handlers.set(subject, handler);
  }

  unregister(subject: string, handler: Handler): void {
    if (this.handlers.get(subject) === handler) this.handlers.delete(subject);
  }

  async request(subject: string, data: unknown): Promise<unknown> {
    const handler = this.handlers.get(subject);
    if (!handler) throw { code: 'unavailable', message: `No process answers ${subject}.` };
    const result = await handler(copy(data));
    return copy(isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result);
  }

  handlerFor(subject: string): Handler | undefined {
    return this.handlers.get(subject);
  }
}

const bus = new InProcessBus();

function copy<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** Nest transport strategy that answers requests from the in-process bus. */
export class InProcessServer extends Server implements CustomTransportStrategy {
  private registered: [string, Handler][] = [];

  constructor(private readonly namespace: string) {
    super();
  }

  listen(callback: () => void): void {
    for (const [pattern, handler] of this.getHandlers()) {
      const subject = `${this.namespace}.${pattern}`;
      bus.register(subject, handler);
      this.registered.push([subject, handler]);
    }
    callback();
  }

  close(): void {
    for (const [subject, handler] of this.registered) bus.unregister(subject, handler);
    this.registered = [];
  }

  on(): never {
    throw new Error('The in-process transport has no status events.');
  }

  unwrap<T>(): T {
    return bus as T;
  }
}

/** Nest client that sends requests over the in-process bus. */
export class InProcessClient extends ClientProxy {
  constructor(private readonly namespace: string) {
    super();
  }

  override async connect(): Promise<void> {
    return;
  }

  override async close(): Promise<void> {
    return;
  }

  override on(): never {
    throw new Error('The in-process transport has no status events.');
  }

  unwrap<T>(): T {
    return bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const subject = `${this.namespace}.${this.normalizePattern(packet.pattern)}`;
    bus.request(subject, packet.data).then(
      (response) => callback({ response, isDisposed: true }),
      (err) => callback({ err, isDisposed: true }),
    );
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const subject = `${this.namespace}.${this.normalizePattern(packet.pattern)}`;
    const handler = bus.handlerFor(subject);
    return (handler ? await handler(copy(packet.data)) : undefined) as T;
  }
}
