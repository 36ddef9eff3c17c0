/**
 * Request/reply subjects, relative to the deployment's namespace (`plugboard` unless configured), so that
 * `Subjects.registry.createService` travels on NATS as `plugboard.registry.createService`.
 */
export const Subjects = {
  registry: {
    createService: 'registry.createService',
    getService: 'registry.getService',
    listServices: 'registry.listServices',
    editService: 'registry.editService',
    deleteService: 'registry.deleteService',
    setServiceClient: 'registry.setServiceClient',
    removeServiceClient: 'registry.removeServiceClient',
    health: 'registry.health',
  },
  connection: {
    createConnection: 'connection.createConnection',
    getConnection: 'connection.getConnection',
    listConnections: 'connection.listConnections',
    editConnection: 'connection.editConnection',
    authorizeConnection: 'connection.authorizeConnection',
    completeAuthorization: 'connection.completeAuthorization',
    createConnectLink: 'connection.createConnectLink',
    describeConnectLink: 'connection.describeConnectLink',
    authorizeConnectLink: 'connection.authorizeConnectLink',
    revokeConnection: 'connection.revokeConnection',
    deleteConnection: 'connection.deleteConnection',
    registerWebhook: 'connection.registerWebhook',
    getWebhook: 'connection.getWebhook',
    removeWebhook: 'connection.removeWebhook',
    rotateWebhookSecret: 'connection.rotateWebhookSecret',
    listWebhookDeliveries: 'connection.listWebhookDeliveries',
    health: 'connection.health',
  },
  tokenRefresh: { refresh: 'tokenRefresh.refresh', health: 'tokenRefresh.health' },
  invoke: { request: 'invoke.request', health: 'invoke.health' },
} as const;

type Leaves<T> = T extends string ? T : { [K in keyof T]: Leaves<T[K]> }[keyof T];
export type Subject = Leaves<typeof Subjects>;

/** Subjects each app answers to say it is alive; the gateway's /health asks every one. */
export const HealthSubjects = {
  'service-registry': Subjects.registry.health,
  connection: Subjects.connection.health,
  'token-refresh': Subjects.tokenRefresh.health,
  'invoke-proxy': Subjects.invoke.health,
} as const;

export const DEFAULT_NAMESPACE = 'plugboard';

/** Integration events are published for other products on `<namespace>.events.<EventType>`. */
export function integrationEventSubject(namespace: string, eventType: string): string {
  return `${namespace}.events.${eventType}`;
}
