import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { ConnectionOptions } from 'nats';
import { InProcessClient, InProcessServer } from './in-process.transport';
import { NamespacedNatsClient, NamespacedNatsServer } from './nats.transport';

/** NATS when a URL is configured (distributed mode), the in-process bus otherwise (embedded mode). */
export interface TransportConfig {
  natsUrl?: string;
  namespace: string;
  /** Replicas of one app form a NATS queue group named after it. */
  appName: string;
  /** The app's own NATS user (deploy/ gives each app one, allowed only its subjects). */
  natsUser?: string;
  natsPassword?: string;
}

/**
 * How an app connects to NATS: as its own user, with reply inboxes under `_INBOX.<app>.`, so the server can let each
 * app read only its own replies (deploy/kubernetes/nats.conf) instead of every `_INBOX.>`.
 */
export function natsConnectionOptions(config: TransportConfig & { natsUrl: string }, name = config.appName): ConnectionOptions {
  return {
    servers: config.natsUrl,
    name,
    inboxPrefix: `_INBOX.${config.appName}`,
    ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword } : {}),
  };
}

export function createServerTransport(config: TransportConfig): CustomTransportStrategy {
  return config.natsUrl
    ? new NamespacedNatsServer(config.namespace, { ...natsConnectionOptions({ ...config, natsUrl: config.natsUrl }), queue: config.appName })
    : new InProcessServer(config.namespace);
}

/** The client of either bus; both speak Nest's ClientProxy. */
export type BusClient = NamespacedNatsClient | InProcessClient;

export function createClientTransport(config: TransportConfig): BusClient {
  return config.natsUrl
    ? new NamespacedNatsClient(config.namespace, natsConnectionOptions({ ...config, natsUrl: config.natsUrl }, `${config.appName}-client`))
    : new InProcessClient(config.namespace);
}
