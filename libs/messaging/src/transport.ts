import type { CustomTransportStrategy } from '@nestjs/microservices';
import { InProcessClient, InProcessServer } from './in-process.transport';
import { NamespacedNatsClient, NamespacedNatsServer } from './nats.transport';

/** NATS when a URL is configured (distributed mode), the in-process bus otherwise (embedded mode). */
export interface TransportConfig {
  natsUrl?: string;
  namespace: string;
  /** Replicas of one app form a NATS queue group named after it. */
  appName: string;
}

export function createServerTransport(config: TransportConfig): CustomTransportStrategy {
  return config.natsUrl
    ? new NamespacedNatsServer(config.namespace, { servers: config.natsUrl, queue: config.appName, name: config.appName })
    : new InProcessServer(config.namespace);
}

/** The client of either bus; both speak Nest's ClientProxy. */
export type BusClient = NamespacedNatsClient | InProcessClient;

export function createClientTransport(config: TransportConfig): BusClient {
  return config.natsUrl
    ? new NamespacedNatsClient(config.namespace, { servers: config.natsUrl, name: `${config.appName}-client` })
    : new InProcessClient(config.namespace);
}
