import type { z } from 'zod';
import type { ErrorCode } from '../errors';
import { InvokeInputSchema } from '../invoke/invoke.contract';
import { AuthorizeConnectionInputSchema, CreateConnectionInputSchema, EditConnectionInputSchema, RevokeConnectionInputSchema } from '../connections/connection.contract';
import { CreateServiceInputSchema, EditServiceInputSchema } from '../services/service.contract';
import { SetServiceClientInputSchema } from '../services/service-client.contract';
import { RegisterWebhookInputSchema } from '../webhooks/webhook.contract';
import { CreateApiKeyInputSchema } from '../access/api-key.contract';
import { SignInWithLinkInputSchema } from '../access/session.contract';
import { AuthorizeConnectLinkInputSchema, CreateConnectLinkInputSchema } from '../connections/connect-link.contract';

/** One REST route, described once: the gateway serves it and documents it from this, and SDKs can type it. */
export interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  bodyExample?: unknown;
  success: number;
  /** Which response schema (in the OpenAPI components) a success returns. */
  returns?: 'Service' | 'ServicePage' | 'Connection' | 'ConnectionPage' | 'AuthorizeResult' | 'InvokeResponse' | 'Health' | 'Webhook' | 'WebhookWithSecret' | 'WebhookDeliveryPage' | 'ApiKeyList' | 'CreatedApiKey' | 'ApiKey' | 'ConnectionSnippets' | 'EventPage' | 'Session' | 'CreatedConnectLink' | 'ConnectLink' | 'ConnectLinkAuthorizeResult';
  /** Query parameters, for lists. */
  query?: { name: string; description: string; schema: Record<string, unknown> }[];
  errors: ErrorCode[];
  public?: boolean;
  /** Served for every method (the passthrough proxy): documented once per method. */
  anyMethod?: boolean;
}

/** What `GET /health` answers: each check is `ok` or `unreachable`. */
export interface HealthView {
  status: 'ok' | 'degraded';
  checks: Record<string, string>;
}

const authErrors: ErrorCode[] = ['unauthenticated', 'forbidden'];
/** The query parameters of every list: `{items, nextCursor}` pages. */
const pageQuery: NonNullable<Endpoint['query']> = [
  { name: 'limit', description: 'page size, 1–200 (50)', schema: { type: 'integer', minimum: 1, maximum: 200 } },
  { name: 'cursor', description: 'the nextCursor of the previous page', schema: { type: 'string' } },
];

export const Endpoints = {
  health: {
    method: 'GET',
    path: '/health',
    summary: 'Is the gateway up, and can it reach the database and every app over the bus?',
    tag: 'operations',
    success: 200,
    returns: 'Health',
    errors: ['unavailable'],
    public: true,
  },
  createService: {
    method: 'POST',
    path: '/v1/services',
    summary: 'Create a custom service in your org. You become its owner; everyone in the org can use it.',
    tag: 'services',
    body: CreateServiceInputSchema,
    bodyExample: {
      name: 'Acme CRM',
      linkName: 'acme_crm',
      authType: 'api_key',
      baseUrl: 'https://api.acme.example',
      apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
    },
    success: 201,
    returns: 'Service',
    errors: ['validation_failed', 'malformed_json', 'link_name_taken', ...authErrors],
  },
  listServices: {
    method: 'GET',
    path: '/v1/services',
    summary: 'List the predefined services and your org’s custom ones, by link name, with filters and text search.',
    tag: 'services',
    query: [
      { name: 'type', description: 'predefined or custom', schema: { type: 'string', enum: ['predefined', 'custom'] } },
      { name: 'authType', description: 'api_key, basic, oauth1 or oauth2', schema: { type: 'string', enum: ['api_key', 'basic', 'oauth1', 'oauth2'] } },
      { name: 'category', description: 'a predefined service’s category (crm, accounting, support, hr, ecommerce, …); lists predefined services only', schema: { type: 'string', example: 'accounting' } },
      { name: 'q', description: 'text in the name, link name, description or category', schema: { type: 'string', example: 'crm' } },
      ...pageQuery,
    ],
    success: 200,
    returns: 'ServicePage',
    errors: ['validation_failed', ...authErrors],
  },
  editService: {
    method: 'PATCH',
    path: '/v1/services/{linkName}',
    summary:
      'Edit a custom service you own, within seed 004’s rules: name, base URL and hosts; API key parameters added or edited, not removed; OAuth URLs, param type, client/consumer key and secret; OAuth 2 scopes added only. Link name, auth type, grant type and scope delimiter never change. An accepted edit revokes the service’s connections.',
    tag: 'services',
    body: EditServiceInputSchema,
    bodyExample: { name: 'Acme CRM (EU)', apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'query' }] } },
    success: 200,
    returns: 'Service',
    errors: ['validation_failed', 'malformed_json', 'field_not_editable', 'not_owner', 'service_read_only', 'service_not_found', ...authErrors],
  },
  deleteService: {
    method: 'DELETE',
    path: '/v1/services/{linkName}',
    summary: 'Delete a custom service you own. Refused while it has connections. Its secret is erased from the vault.',
    tag: 'services',
    success: 204,
    errors: ['not_owner', 'service_in_use', 'service_read_only', 'service_not_found', ...authErrors],
  },
  setServiceClient: {
    method: 'PUT',
    path: '/v1/services/{linkName}/client',
    summary:
      'Register (or replace) your org’s own OAuth app for a predefined OAuth service (admins): its connections then authorize and refresh with it instead of the deployment’s (PLUGBOARD_PREDEFINED_CLIENTS). The secret is kept in the vault and shown masked. A new or changed app revokes the org’s connections of that service (their tokens belong to the previous app); sending the same one changes nothing.',
    tag: 'services',
    body: SetServiceClientInputSchema,
    bodyExample: { clientId: 'Iv1.8a61f9b3a7aba766', clientSecret: '…' },
    success: 200,
    returns: 'Service',
    errors: ['validation_failed', 'malformed_json', 'service_not_found', ...authErrors],
  },
  removeServiceClient: {
    method: 'DELETE',
    path: '/v1/services/{linkName}/client',
    summary: 'Remove your org’s own OAuth app for a predefined service (admins): back to the deployment’s, if it has one. Its secret is erased; the org’s connections of that service are revoked.',
    tag: 'services',
    success: 200,
    returns: 'Service',
    errors: ['service_client_not_found', 'service_not_found', ...authErrors],
  },
  getService: {
    method: 'GET',
    path: '/v1/services/{linkName}',
    summary: 'Read one service of your org by its link name. Secrets are shown masked.',
    tag: 'services',
    success: 200,
    returns: 'Service',
    errors: ['service_not_found', ...authErrors],
  },
  listConnections: {
    method: 'GET',
    path: '/v1/connections',
    summary: 'List connections: own (created by you), shared (someone else’s, authorized with your credentials) or internal (made by products).',
    tag: 'connections',
    query: [
      { name: 'view', description: 'own (default), shared or internal', schema: { type: 'string', enum: ['own', 'shared', 'internal'] } },
      ...pageQuery,
    ],
    success: 200,
    returns: 'ConnectionPage',
    errors: ['validation_failed', ...authErrors],
  },
  createConnection: {
    method: 'POST',
    path: '/v1/connections',
    summary:
      'Create a connection to a predefined or custom service. It starts pending; authorize it next. Without a linkName, one is derived from the name (seed 000: "Sales CRM" → sales_crm), with _2, _3… added when it is taken.',
    tag: 'connections',
    body: CreateConnectionInputSchema,
    bodyExample: { name: 'Sales CRM', linkName: 'sales_crm', service: 'acme_crm', useLoginUserCredentials: false },
    success: 201,
    returns: 'Connection',
    errors: ['validation_failed', 'malformed_json', 'link_name_taken', ...authErrors],
  },
  getConnection: {
    method: 'GET',
    path: '/v1/connections/{linkName}',
    summary: 'Read one connection of your org, with the status of the credential you would use.',
    tag: 'connections',
    success: 200,
    returns: 'Connection',
    errors: ['connection_not_found', ...authErrors],
  },
  connectionSnippet: {
    method: 'GET',
    path: '/v1/connections/{linkName}/snippet',
    summary: 'Ready-to-paste calls through this connection: curl and TypeScript through POST /v1/invoke, curl through /v1/proxy, and a NATS request (distributed mode).',
    tag: 'connections',
    success: 200,
    returns: 'ConnectionSnippets',
    errors: ['connection_not_found', ...authErrors],
  },
  editConnection: {
    method: 'PATCH',
    path: '/v1/connections/{linkName}',
    summary: 'Rename a connection or change its scopes (owner only; not internal ones). A scope change on OAuth asks for re-authorization.',
    tag: 'connections',
    body: EditConnectionInputSchema,
    bodyExample: { name: 'Sales CRM (EU)' },
    success: 200,
    returns: 'Connection',
    errors: ['validation_failed', 'malformed_json', 'field_not_editable', 'not_owner', 'connection_internal', 'connection_not_found', ...authErrors],
  },
  authorizeConnection: {
    method: 'POST',
    path: '/v1/connections/{linkName}/authorize',
    summary:
      'Authorize a connection: API key `{values: {<param>: …}}`, Basic `{username, password}`. When the service declares a verification call (`verify`), the credentials are checked with it first: a 401 or 403 is `credential_rejected`, no usable answer `verification_unreachable`, and nothing is stored. With useLoginUserCredentials each user authorizes their own. Authorizing again replaces the credential (re-enables a revoked connection).',
    tag: 'connections',
    body: AuthorizeConnectionInputSchema,
    bodyExample: { values: { api_key: 'sk_live_…' } },
    success: 200,
    returns: 'AuthorizeResult',
    errors: [
      'validation_failed',
      'malformed_json',
      'not_owner',
      'connection_not_found',
      'credential_rejected',
      'verification_unreachable',
      'host_not_allowed',
      'private_address',
      'authorization_failed',
      'return_url_not_allowed',
      'unavailable',
      ...authErrors,
    ],
  },
  revokeConnection: {
    method: 'POST',
    path: '/v1/connections/{linkName}/revoke',
    summary:
      'Revoke a connection (or, with login-user credentials, your own authorization of it). Authorize again to re-enable it. With {"all": true}, the owner or an admin revokes every user’s authorization at once: each credential in force is revoked once, recorded per user (reason revoked_for_all); one authorized meanwhile stays. An OAuth 2 provider with a revocation endpoint is told afterwards, in the background.',
    tag: 'connections',
    body: RevokeConnectionInputSchema,
    bodyExample: { all: true },
    success: 200,
    returns: 'Connection',
    errors: ['validation_failed', 'not_owner', 'connection_not_found', ...authErrors],
  },
  deleteConnection: {
    method: 'DELETE',
    path: '/v1/connections/{linkName}',
    summary:
      'Delete a connection for good (owner only; not internal ones). Its credentials are erased from the vault, and an OAuth 2 provider with a revocation endpoint is told afterwards.',
    tag: 'connections',
    success: 204,
    errors: ['not_owner', 'connection_internal', 'connection_not_found', ...authErrors],
  },
  invoke: {
    method: 'POST',
    path: '/v1/invoke',
    summary:
      'Call a third-party API through a connection: Plugboard adds its credentials the way the service expects (header, query string or form data; OAuth 1.0a signed; OAuth 2 refreshed once on a 401). Your body is never replaced: credentials sent as form data are added to a form body (or make one on a POST, PUT or PATCH without a body), and any other body is refused with form_body_required; a field of yours where a credential goes is credential_param_conflict. Only the service’s allowed hosts, over https, never private addresses.',
    tag: 'invoke',
    body: InvokeInputSchema,
    bodyExample: { connection: 'sales_crm', method: 'GET', url: '/v2/contacts', query: { limit: '10' } },
    success: 200,
    returns: 'InvokeResponse',
    errors: [
      'validation_failed',
      'invalid_characters',
      'too_deeply_nested',
      'connection_not_found',
      'connection_not_connected',
      'connection_revoked',
      'user_not_authorized',
      'credential_unusable',
      'form_body_required',
      'credential_param_conflict',
      'host_not_allowed',
      'private_address',
      'upstream_timeout',
      'upstream_unreachable',
      ...authErrors,
    ],
  },
  proxy: {
    method: 'GET',
    anyMethod: true,
    path: '/v1/proxy/{linkName}/{path}',
    summary:
      'Passthrough: the request (method, the rest of the path, query string, headers, body) goes to the service’s API base URL with the connection’s credentials added, and the API’s answer comes back as it is, both streamed. Your Authorization, Cookie and X-User-Id headers are not forwarded. Errors of Plugboard itself are JSON with the codes below.',
    tag: 'invoke',
    success: 200,
    errors: [
      'invalid_characters',
      'connection_not_found',
      'connection_not_connected',
      'connection_revoked',
      'user_not_authorized',
      'credential_unusable',
      'form_body_required',
      'credential_param_conflict',
      'host_not_allowed',
      'private_address',
      'payload_too_large',
      'upstream_timeout',
      'upstream_unreachable',
      ...authErrors,
    ],
  },
  registerWebhook: {
    method: 'PUT',
    path: '/v1/webhook',
    summary:
      'Register (or replace) your org’s webhook: authorizations, refreshes, definitive refresh failures, revocations and deletions of connections, and edits of custom services are POSTed to it, signed with HMAC-SHA256. The answer holds a new signing secret, shown this once.',
    tag: 'webhooks',
    body: RegisterWebhookInputSchema,
    bodyExample: { url: 'https://hooks.example.com/plugboard', events: ['ConnectionRevoked', 'TokenRefreshFailed'] },
    success: 200,
    returns: 'WebhookWithSecret',
    errors: ['validation_failed', 'malformed_json', ...authErrors],
  },
  getWebhook: {
    method: 'GET',
    path: '/v1/webhook',
    summary: 'Read your org’s webhook (never its secret).',
    tag: 'webhooks',
    success: 200,
    returns: 'Webhook',
    errors: ['webhook_not_found', ...authErrors],
  },
  removeWebhook: {
    method: 'DELETE',
    path: '/v1/webhook',
    summary: 'Remove your org’s webhook: nothing more is sent, deliveries still pending are cancelled, the secret is erased.',
    tag: 'webhooks',
    success: 204,
    errors: ['webhook_not_found', ...authErrors],
  },
  rotateWebhookSecret: {
    method: 'POST',
    path: '/v1/webhook/rotate-secret',
    summary: 'Replace the signing secret at once (every later attempt is signed with the new one); the new secret is shown this once.',
    tag: 'webhooks',
    success: 200,
    returns: 'WebhookWithSecret',
    errors: ['webhook_not_found', ...authErrors],
  },
  listWebhookDeliveries: {
    method: 'GET',
    path: '/v1/webhook/deliveries',
    summary: 'The delivery log, newest first: each event sent to your webhook, its status, attempts, last HTTP status and error. No bodies.',
    tag: 'webhooks',
    query: [
      ...pageQuery,
    ],
    success: 200,
    returns: 'WebhookDeliveryPage',
    errors: ['validation_failed', ...authErrors],
  },
  listEvents: {
    method: 'GET',
    path: '/v1/events',
    summary:
      'Your org’s audit trail: every event of its services, connections, credentials and webhook, in the order the log is read (admins only). No event holds a secret. Follow it with `after`, the position of the last event you kept: a reader that does so never misses an event, even one whose transaction committed late, so positions within a page need not increase.',
    tag: 'operations',
    query: [
      { name: 'after', description: 'the position of the last event you read; 0 or none for the beginning (not with cursor)', schema: { type: 'integer', minimum: 0 } },
      ...pageQuery,
    ],
    success: 200,
    returns: 'EventPage',
    errors: ['validation_failed', ...authErrors],
  },
  listKeys: {
    method: 'GET',
    path: '/v1/keys',
    summary: 'List your org’s API keys, newest first, revoked ones included: id, role, label, the first characters. Never a key itself.',
    tag: 'keys',
    success: 200,
    returns: 'ApiKeyList',
    errors: [...authErrors],
  },
  createKey: {
    method: 'POST',
    path: '/v1/keys',
    summary:
      'Create an API key for your org with a role (admin, member, read_only), bound to its subject: a person’s key (`user`) acts as that user only (an X-User-Id naming anyone else is 403 user_mismatch); a product’s key (`actAs: "any"`) may name the user it acts for with X-User-Id. The key is in the answer, shown this once; only its hash is kept.',
    tag: 'keys',
    body: CreateApiKeyInputSchema,
    bodyExample: { role: 'member', user: 'alice', label: 'Alice’s laptop' },
    success: 201,
    returns: 'CreatedApiKey',
    errors: ['validation_failed', 'malformed_json', ...authErrors],
  },
  revokeKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/revoke',
    summary: 'Revoke one of your org’s API keys: it stops working within 10 seconds (gateways remember a verified key that long).',
    tag: 'keys',
    success: 200,
    returns: 'ApiKey',
    errors: ['not_found', ...authErrors],
  },
  getSession: {
    method: 'GET',
    path: '/v1/session',
    summary:
      'Who am I: `{signedIn: true, orgId, userId, role, displayName, via, expiresAt, signIn}` for a console session or an API key, else `{signedIn: false, signIn}`. `signIn` says whether the org’s OpenID Connect sign-in is configured (and where it starts) and whether one-time sign-in links exist (embedded mode). Public.',
    tag: 'session',
    success: 200,
    returns: 'Session',
    errors: ['unauthenticated', 'user_mismatch'],
    public: true,
  },
  signInWithLink: {
    method: 'POST',
    path: '/v1/session/sign-in',
    summary:
      'Redeem a one-time sign-in link (`npm start` prints `<public url>/console/sign-in?token=…`; single use, 15 minutes): sets the console session cookie. A form post (application/x-www-form-urlencoded) is answered 303 to /console; JSON with the Session. A bad token is 401 sign_in_link_invalid (a form post goes back to /console/sign-in?error=sign_in_link_invalid).',
    tag: 'session',
    body: SignInWithLinkInputSchema,
    bodyExample: { token: 'st_…' },
    success: 200,
    returns: 'Session',
    errors: ['validation_failed', 'malformed_json', 'sign_in_link_invalid', 'cross_site_request'],
    public: true,
  },
  signOut: {
    method: 'POST',
    path: '/v1/session/sign-out',
    summary: 'End the console session: the cookie is cleared. Always 204, signed in or not.',
    tag: 'session',
    success: 204,
    errors: ['cross_site_request'],
    public: true,
  },
  createConnectLink: {
    method: 'POST',
    path: '/v1/connect-links',
    summary:
      'A single-use link (`<public url>/console/connect/<token>`, default 30 minutes) that lets one user authorize their own credential of a connection in any browser, with no key. A person’s key or session makes links for its own user only (user_mismatch otherwise); a product’s key for any user. A connection without login-user credentials takes a link for its owner only (not_owner). returnUrl only on allowed origins.',
    tag: 'connect links',
    body: CreateConnectLinkInputSchema,
    bodyExample: { connection: 'team_crm', user: 'alice', returnUrl: 'https://app.example.com/settings', expiresIn: 1800 },
    success: 201,
    returns: 'CreatedConnectLink',
    errors: ['validation_failed', 'malformed_json', 'return_url_not_allowed', 'connection_not_found', 'not_owner', 'user_mismatch', ...authErrors],
  },
  getConnectLink: {
    method: 'GET',
    path: '/v1/connect-links/{token}',
    summary:
      'What a connect link’s page shows, with no key: its status (active, used, expired), the user, the connection, the service (name, auth type), the scopes and the parameter display names. Never a secret.',
    tag: 'connect links',
    success: 200,
    returns: 'ConnectLink',
    errors: ['connect_link_not_found'],
    public: true,
  },
  authorizeConnectLink: {
    method: 'POST',
    path: '/v1/connect-links/{token}/authorize',
    summary:
      'Complete a connect link, with no key: API key `{values}` or Basic `{username, password}` → `{status: "connected", returnUrl}`; OAuth 1.0a/2 `{}` → `{authorizeUrl}`, and a cookie binding this browser: the provider’s callback completes only in it. Used once; an expired or used link is 410.',
    tag: 'connect links',
    body: AuthorizeConnectLinkInputSchema,
    bodyExample: { values: { api_key: 'sk_live_…' } },
    success: 200,
    returns: 'ConnectLinkAuthorizeResult',
    errors: [
      'validation_failed',
      'malformed_json',
      'connect_link_not_found',
      'connect_link_expired',
      'connect_link_used',
      'connection_not_found',
      'credential_rejected',
      'verification_unreachable',
      'authorization_failed',
      'private_address',
    ],
    public: true,
  },
} satisfies Record<string, Endpoint>;
