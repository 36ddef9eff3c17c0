import { connect, headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats';
import { integrationEventSubject, type RecordedEvent } from '@plugboard/contracts';
import type { SubscriptionHandler } from '@plugboard/event-store';
import { natsConnectionOptions, type TransportConfig } from './transport';

/** The message other products receive on `<namespace>.events.<Type>`: the recorded event, which holds no secret. */
export interface IntegrationEventMessage {
  id: string;
  type: string;
  streamId: string;
  streamVersion: number;
  position: number;
  data: unknown;
  metadata: unknown;
  recordedAt: string;
}

/**
 * Publishes every event of the log to NATS, in log order, driven by a catch-up subscription so none is lost across
 * restarts. With JetStream the event id is the message id, so a batch published again after a crash is
 * de-duplicated by the server; on a NATS without JetStream it falls back to plain publishes (at least once).
 */
export class IntegrationEventsPublisher {
  private connection?: NatsConnection;
  private jetstream?: JetStreamClient;

  private readonly namespace: string;

  constructor(private readonly nats: TransportConfig & { natsUrl: string }) {
    this.namespace = nats.namespace;
  }

  async start(): Promise<void> {
    this.connection = await connect({ ...natsConnectionOptions(this.nats, `${this.nats.appName}-integration-events`), maxReconnectAttempts: -1 });
    try {
      const manager = await this.connection.jetstreamManager();
      const stream = `${this.namespace.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}_EVENTS`;
      await manager.streams.info(stream).catch(() => manager.streams.add({ name: stream, subjects: [`${this.namespace}.events.>`] }));
      this.jetstream = this.connection.jetstream();
    } catch {
      this.jetstream = undefined;
    }
  }

  handler(): SubscriptionHandler {
    return {
      name: `integration-events:${this.namespace}`,
      handle: async (events) => {
        for (const event of events) await this.publish(event);
      },
    };
  }

  async stop(): Promise<void> {
    await this.connection?.drain().catch(() => undefined);
  }

  private async publish(event: RecordedEvent): Promise<void> {
    const message: IntegrationEventMessage = {
      id: event.id,
      type: event.type,
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      position: event.position,
      data: event.data,
      metadata: event.metadata,
      recordedAt: event.recordedAt,
    };
    const subject = integrationEventSubject(this.namespace, event.type);
    const payload = Buffer.from(JSON.stringify(message));
    if (this.jetstream) {
      await this.jetstream.publish(subject, payload, { msgID: event.id });
    } else if (this.connection) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', event.id);
      this.connection.publish(subject, payload, { headers: h });
    }
  }
}
