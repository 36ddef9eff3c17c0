import type { ErrorBody } from './errors';
import type { Endpoints } from './rest/endpoints';
import type { ConnectionEvent } from './connections/connection.events';
import type { ServiceEvent } from './services/service.events';
import type { WebhookEvent } from './webhooks/webhook.events';

/**
 * The products' request/reply API on NATS, `<namespace>.api.<operation>`: plain JSON in, `BusApiReply` out, the caller
 * named by NATS headers as over HTTP (`Authorization: Bearer <key>`, `X-User-Id`, `X-Request-Id`). Each operation is
 * the REST endpoint it names here: the same body (path parameters such as `linkName` as fields of it, list queries
 * as fields too), the same answer, the same error codes. The internal subjects (`<namespace>.registry.*` …) are the
 * apps' own and trust the actor they carry; products never publish them.
 */
export const BusApiOperations = {
  'services.list': 'listServices',
  'services.create': 'createService',
  'services.get': 'getService',
  'services.edit': 'editService',
  'services.delete': 'deleteService',
  'services.setClient': 'setServiceClient',
  'services.removeClient': 'removeServiceClient',
  'connections.list': 'listConnections',
  'connections.create': 'createConnection',
  'connections.get': 'getConnection',
  'connections.edit': 'editConnection',
  'connections.authorize': 'authorizeConnection',
  'connections.revoke': 'revokeConnection',
  'connections.delete': 'deleteConnection',
  'connections.snippet': 'connectionSnippet',
  invoke: 'invoke',
  'connectLinks.create': 'createConnectLink',
  'webhook.register': 'registerWebhook',
  'webhook.get': 'getWebhook',
  'webhook.remove': 'removeWebhook',
  'webhook.rotateSecret': 'rotateWebhookSecret',
  'webhook.deliveries': 'listWebhookDeliveries',
} as const satisfies Record<string, keyof typeof Endpoints>;

export type BusApiOperation = keyof typeof BusApiOperations;

/** `plugboard.api.services.create` for the default namespace. */
export function busApiSubject(namespace: string, operation: BusApiOperation): string {
  return `${namespace}.api.${operation}`;
}

/** What the gateway answers on every `<namespace>.api.*` request. */
export type BusApiReply<T = unknown> = { ok: true; result: T } | { ok: false; error: ErrorBody };

/** The queue group the gateway's replicas share the API's requests in. */
export const BUS_API_QUEUE = 'gateway';

/**
 * Every event type the log holds, as products receive it on `<namespace>.events.<Type>` (stream `<NAMESPACE>_EVENTS`),
 * with what it says; keyed by the event unions so a new event type cannot be left out of the AsyncAPI document.
 */
export const IntegrationEventTypes: Record<ServiceEvent['type'] | ConnectionEvent['type'] | WebhookEvent['type'], string> = {
  ServiceCreated: 'A custom service was created in an org.',
  ServiceEdited: 'A custom service was edited (its connections are revoked).',
  ServiceDeleted: 'A custom service was deleted.',
  ConnectionCreated: 'A connection was created; it is pending until authorized.',
  ConnectionAuthorized: 'A connection (or one user’s credential of it) was authorized.',
  ConnectionEdited: 'A connection was renamed or its scopes changed.',
  ConnectionRevoked: 'A connection (or one user’s credential of it) was revoked.',
  ConnectionDeleted: 'A connection was deleted; its credentials were erased.',
  TokenRefreshed: 'An OAuth access token was refreshed.',
  TokenRefreshFailed: 'Refreshing an OAuth access token failed.',
  ReauthorizationRequired: 'An OAuth credential can no longer be renewed: its user must authorize again.',
  ConnectionDegraded: 'Calls through a connection were refused by its API several times in a row.',
  ConnectionRecovered: 'A degraded connection’s call succeeded again.',
  WebhookRegistered: 'An org registered its webhook.',
  WebhookSecretRotated: 'An org’s webhook signing secret was rotated.',
  WebhookRemoved: 'An org removed its webhook.',
};
