import type { Subjects } from './subjects';
import type { InvokeRequest, InvokeResponse } from './invoke/invoke.contract';
import type {
  AuthorizeConnectionRequest,
  AuthorizeResult,
  CompleteAuthorizationRequest,
  CompletedAuthorization,
  ConnectionRequest,
  ConnectionView,
  CreateConnectionRequest,
  EditConnectionRequest,
  ListConnectionsRequest,
  RevokeConnectionRequest,
} from './connections/connection.contract';
import type { AuthorizeConnectLinkRequest, ConnectLinkAuthorizeResult, ConnectLinkView, CreateConnectLinkRequest, CreatedConnectLink, DescribeConnectLinkRequest } from './connections/connect-link.contract';
import type { ListWebhookDeliveriesRequest, RegisterWebhookRequest, WebhookDeliveryView, WebhookRequest, WebhookView, WebhookWithSecret } from './webhooks/webhook.contract';
import type { RemoveServiceClientRequest, SetServiceClientRequest } from './services/service-client.contract';
import type { CreateServiceRequest, DeleteServiceRequest, EditServiceRequest, GetServiceRequest, ListServicesRequest, Page, ServiceView } from './services/service.contract';

export interface HealthReply {
  app: string;
  status: 'ok';
}

/** Every request/reply operation once: its subject, what it takes and what it answers. */
export interface RpcContracts {
  [Subjects.registry.createService]: { request: CreateServiceRequest; response: ServiceView };
  [Subjects.registry.getService]: { request: GetServiceRequest; response: ServiceView };
  [Subjects.registry.listServices]: { request: ListServicesRequest; response: Page<ServiceView> };
  [Subjects.registry.editService]: { request: EditServiceRequest; response: ServiceView };
  [Subjects.registry.deleteService]: { request: DeleteServiceRequest; response: { deleted: true } };
  [Subjects.registry.setServiceClient]: { request: SetServiceClientRequest; response: ServiceView };
  [Subjects.registry.removeServiceClient]: { request: RemoveServiceClientRequest; response: ServiceView };
  [Subjects.registry.health]: { request: Record<string, never>; response: HealthReply };
  [Subjects.connection.createConnection]: { request: CreateConnectionRequest; response: ConnectionView };
  [Subjects.connection.getConnection]: { request: ConnectionRequest; response: ConnectionView };
  [Subjects.connection.listConnections]: { request: ListConnectionsRequest; response: Page<ConnectionView> };
  [Subjects.connection.editConnection]: { request: EditConnectionRequest; response: ConnectionView };
  [Subjects.connection.authorizeConnection]: { request: AuthorizeConnectionRequest; response: AuthorizeResult };
  [Subjects.connection.completeAuthorization]: { request: CompleteAuthorizationRequest; response: CompletedAuthorization };
  [Subjects.connection.createConnectLink]: { request: CreateConnectLinkRequest; response: CreatedConnectLink };
  [Subjects.connection.describeConnectLink]: { request: DescribeConnectLinkRequest; response: ConnectLinkView };
  [Subjects.connection.authorizeConnectLink]: { request: AuthorizeConnectLinkRequest; response: ConnectLinkAuthorizeResult };
  [Subjects.connection.revokeConnection]: { request: RevokeConnectionRequest; response: ConnectionView };
  [Subjects.connection.deleteConnection]: { request: ConnectionRequest; response: { deleted: true } };
  [Subjects.connection.registerWebhook]: { request: RegisterWebhookRequest; response: WebhookWithSecret };
  [Subjects.connection.getWebhook]: { request: WebhookRequest; response: WebhookView };
  [Subjects.connection.removeWebhook]: { request: WebhookRequest; response: { deleted: true } };
  [Subjects.connection.rotateWebhookSecret]: { request: WebhookRequest; response: WebhookWithSecret };
  [Subjects.connection.listWebhookDeliveries]: { request: ListWebhookDeliveriesRequest; response: Page<WebhookDeliveryView> };
  [Subjects.connection.health]: { request: Record<string, never>; response: HealthReply };
  [Subjects.tokenRefresh.refresh]: { request: RefreshCredentialRequest; response: RefreshCredentialReply };
  [Subjects.tokenRefresh.health]: { request: Record<string, never>; response: HealthReply };
  [Subjects.invoke.request]: { request: InvokeRequest; response: InvokeResponse };
  [Subjects.invoke.health]: { request: Record<string, never>; response: HealthReply };
}

/**
 * Asks for one credential to be refreshed now (the invoke proxy after a 401, or an expired token). The reply never
 * carries a token: the caller re-reads the vault entry, which the refresh rewrote in place.
 */
export interface RefreshCredentialRequest {
  orgId: string;
  linkName: string;
  /** The user whose credential it is (login-user credentials), null for the connection's own. */
  userId: string | null;
  /** The vault version the caller saw: if the entry is already newer, it was refreshed meanwhile. */
  seenVersion?: number;
}
export interface RefreshCredentialReply {
  /** `reauthorization_required`: no refresh token (ReauthorizationRequired is recorded); only the user can help. */
  outcome: 'refreshed' | 'already_fresh' | 'revoked' | 'failed' | 'reauthorization_required';
  expiresAt: string | null;
}

export type RpcSubject = keyof RpcContracts;
