import { z } from 'zod';
import { CONNECTION_DEGRADED_AFTER, Endpoints, HTTP_STATUS, type Endpoint } from '@plugboard/contracts';

export type Json = Record<string, unknown>;

const ServiceSchema: Json = {
  type: 'object',
  description: 'A service: secrets are always masked; only the block of its auth type is present.',
  properties: {
    name: { type: 'string' },
    linkName: { type: 'string' },
    type: { type: 'string', enum: ['predefined', 'custom'] },
    authType: { type: 'string', enum: ['api_key', 'basic', 'oauth1', 'oauth2'] },
    baseUrl: { type: 'string', nullable: true },
    allowedHosts: { type: 'array', items: { type: 'string' } },
    verify: {
      type: 'object',
      description: 'The call that proves a credential works, relative to baseUrl (401/403: it does not).',
      properties: { method: { type: 'string', enum: ['GET'] }, path: { type: 'string' } },
    },
    apiKey: { type: 'object' },
    oauth1: { type: 'object' },
    oauth2: {
      type: 'object',
      description:
        'OAuth 2 settings. Custom services: extraAuthorizeParams (added to the authorize redirect, e.g. {"access_type": "offline", "prompt": "consent"}) and extraTokenParams (added to every token request, e.g. {"audience": "…"}), string to string; the names Plugboard sets itself are refused.',
    },
    client: {
      type: 'object',
      description: 'Predefined OAuth services, on GET /v1/services/{linkName}: which OAuth app the org’s connections use. organization: the org’s own (PUT …/client), secret masked; deployment: PLUGBOARD_PREDEFINED_CLIENTS (nothing of it shown); none.',
      properties: {
        source: { type: 'string', enum: ['organization', 'deployment', 'none'] },
        clientId: { type: 'string', nullable: true },
        clientSecret: { type: 'string', nullable: true, enum: ['********', null] },
        updatedAt: { type: 'string', format: 'date-time', nullable: true },
      },
    },
    category: { type: 'string', description: 'Predefined services: accounting, crm, support, hr, ecommerce, marketing, developer, storage, communication, ai, …' },
    owner: { type: 'string', nullable: true },
    connectionCount: { type: 'integer' },
    callbackUrls: {
      type: 'array',
      description:
        'OAuth 1.0a and authorization-code OAuth 2 services: the redirect URIs to register at the provider. region null is PLUGBOARD_PUBLIC_URL’s (an authorization that names no region); then one per region of PLUGBOARD_REGION_URLS.',
      items: { type: 'object', properties: { region: { type: 'string', nullable: true }, url: { type: 'string', format: 'uri' } }, required: ['region', 'url'] },
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const ConnectionSchema: Json = {
  type: 'object',
  description: 'A connection as the calling user sees it; no credential is ever shown.',
  properties: {
    name: { type: 'string' },
    linkName: { type: 'string' },
    service: { type: 'string' },
    serviceType: { type: 'string', enum: ['predefined', 'custom'] },
    authType: { type: 'string', enum: ['api_key', 'basic', 'oauth1', 'oauth2'] },
    scopes: { type: 'array', items: { type: 'string' } },
    parameters: { type: 'object', additionalProperties: { type: 'string' } },
    useLoginUserCredentials: { type: 'boolean' },
    internal: { type: 'boolean' },
    owner: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'connected', 'revoked', 'deleted'] },
    revokedReason: { type: 'string', nullable: true, enum: ['user', 'service_edited', 'refresh_failed', 'verification_failed', 'revoked_for_all', null] },
    reauthorizationRequired: { type: 'boolean' },
    lastAuthorizedAt: { type: 'string', format: 'date-time', nullable: true },
    lastRefreshedAt: { type: 'string', format: 'date-time', nullable: true },
    health: {
      type: 'string',
      enum: ['healthy', 'degraded'],
      description: `degraded after ${CONNECTION_DEGRADED_AFTER} calls in a row that its API refused (401 or 403, after a refresh where one was possible); healthy again at the next success.`,
    },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true, description: 'When a call through the connection last reached its API.' },
    lastError: {
      type: 'object',
      nullable: true,
      description: 'The last refusal (401 or 403): status and host only, never the body.',
      properties: { status: { type: 'integer' }, host: { type: 'string', nullable: true }, message: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
    },
    consecutiveFailures: { type: 'integer', minimum: 0, description: 'Refusals in a row since the last success.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const WebhookSchema: Json = {
  type: 'object',
  description: 'An org’s webhook; the signing secret is never shown again after registering or rotating.',
  properties: {
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    secretRotatedAt: { type: 'string', format: 'date-time' },
  },
};

const WebhookDeliverySchema: Json = {
  type: 'object',
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    type: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed', 'cancelled'] },
    attempts: { type: 'integer' },
    lastStatus: { type: 'integer', nullable: true },
    lastError: { type: 'string', nullable: true, enum: ['http_status', 'timeout', 'unreachable', 'private_address', 'not_allowed', null] },
    lastAttemptAt: { type: 'string', format: 'date-time', nullable: true },
    nextAttemptAt: { type: 'string', format: 'date-time', nullable: true },
    deliveredAt: { type: 'string', format: 'date-time', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

const ApiKeySchema: Json = {
  type: 'object',
  description: 'An API key of your org: never the key itself, only its first characters.',
  properties: {
    id: { type: 'string', format: 'uuid' },
    role: { type: 'string', enum: ['admin', 'member', 'read_only'] },
    user: { type: 'string', nullable: true, description: 'A person’s key: the user it acts as (always).' },
    actAs: { type: 'string', enum: ['any'], nullable: true, description: 'A product’s key: "any" (it names its user with X-User-Id).' },
    prefix: { type: 'string', description: 'pb_ and the next six characters of the key' },
    label: { type: 'string', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
  },
};

const SignInSchema: Json = {
  type: 'object',
  properties: {
    oidc: { type: 'object', properties: { configured: { type: 'boolean' }, url: { type: 'string', description: 'Where the OpenID Connect sign-in starts.' } } },
    link: { type: 'boolean', description: 'One-time sign-in links exist (embedded mode).' },
  },
};

const SessionSchema: Json = {
  type: 'object',
  properties: {
    signedIn: { type: 'boolean' },
    orgId: { type: 'string' },
    userId: { type: 'string' },
    role: { type: 'string', enum: ['admin', 'member', 'read_only'] },
    displayName: { type: 'string' },
    via: { type: 'string', enum: ['session', 'api_key'] },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    signIn: SignInSchema,
  },
};

const ConnectLinkSchema: Json = {
  type: 'object',
  description: 'What a connect link’s page shows: never a secret.',
  properties: {
    status: { type: 'string', enum: ['active', 'used', 'expired'] },
    expiresAt: { type: 'string', format: 'date-time' },
    user: { type: 'string', description: 'Whose credential the link authorizes.' },
    connection: { type: 'object', properties: { name: { type: 'string' }, linkName: { type: 'string' } } },
    service: { type: 'object', properties: { name: { type: 'string' }, linkName: { type: 'string' }, authType: { type: 'string', enum: ['api_key', 'basic', 'oauth1', 'oauth2'] } } },
    scopes: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, displayName: { type: 'string' } } } },
    parameters: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, displayName: { type: 'string' } } } },
    returnsTo: { type: 'string', nullable: true },
  },
};

const EventSchema: Json = {
  type: 'object',
  description: 'One event of the log as the audit feed shows it; events never hold a secret (only vault references).',
  properties: {
    position: { type: 'integer', description: 'Its place in the log; pass the last one you kept as `after`.' },
    type: { type: 'string', example: 'ConnectionRevoked' },
    streamId: { type: 'string', example: 'connection-acme.sales_crm' },
    data: { type: 'object' },
    metadata: {
      type: 'object',
      description: 'Who caused it: orgId, userId, correlationId (the X-Request-Id of the call), causationId (the event that led to it).',
      additionalProperties: true,
    },
    recordedAt: { type: 'string', format: 'date-time' },
  },
};

const page = (item: string): Json => ({
  type: 'object',
  properties: { items: { type: 'array', items: { $ref: `#/components/schemas/${item}` } }, nextCursor: { type: 'string', nullable: true } },
});

const HealthSchema: Json = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok', 'degraded'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
};

const ErrorSchema: Json = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable, for programs.' },
        message: { type: 'string', description: 'A sentence for a person.' },
        connectLink: {
          type: 'object',
          description: 'On user_not_authorized for a product’s key: a connect link to hand to the user.',
          properties: { url: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
        },
        details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

/** The answers' schemas, by the names Endpoint.returns uses (the AsyncAPI document shares them). */
export const responseSchemas: Record<string, Json> = {
    Service: ServiceSchema,
    ServicePage: page('Service'),
    Connection: ConnectionSchema,
    ConnectionPage: page('Connection'),
    AuthorizeResult: { type: 'object', properties: { connection: { $ref: '#/components/schemas/Connection' }, authorizeUrl: { type: 'string' } } },
    InvokeResponse: {
      type: 'object',
      properties: { status: { type: 'integer' }, headers: { type: 'object', additionalProperties: { type: 'string' } }, body: { description: 'JSON when the API answered JSON, else text' } },
    },
    Health: HealthSchema,
    Webhook: WebhookSchema,
    WebhookWithSecret: {
      type: 'object',
      properties: { webhook: { $ref: '#/components/schemas/Webhook' }, secret: { type: 'string', description: 'whsec_…: shown this once; keep it to verify signatures.' } },
    },
    WebhookDelivery: WebhookDeliverySchema,
    WebhookDeliveryPage: page('WebhookDelivery'),
    Event: EventSchema,
    EventPage: page('Event'),
    ApiKey: ApiKeySchema,
    ApiKeyList: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/ApiKey' } } } },
    CreatedApiKey: {
      type: 'object',
      properties: { apiKey: { $ref: '#/components/schemas/ApiKey' }, key: { type: 'string', description: 'pb_…: shown this once; only its hash is kept.' } },
    },
    ConnectionSnippets: {
      type: 'object',
      properties: { curl: { type: 'string' }, proxyCurl: { type: 'string' }, typescript: { type: 'string' }, nats: { type: 'string', nullable: true } },
    },
    Session: SessionSchema,
    CreatedConnectLink: {
      type: 'object',
      properties: { url: { type: 'string', description: '<public url>/console/connect/<token>: shown this once.' }, expiresAt: { type: 'string', format: 'date-time' } },
    },
    ConnectLink: ConnectLinkSchema,
    ConnectLinkAuthorizeResult: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['connected'] },
        connection: { type: 'string', description: 'The connection’s link name.' },
        returnUrl: { type: 'string', nullable: true, description: 'Where to send the browser now (with plugboard_status=connected), or null: show a result page.' },
        authorizeUrl: { type: 'string', description: 'OAuth: send this browser there.' },
      },
    },
    Error: ErrorSchema,
};

function operation(endpoint: Endpoint): Json {
  const responses: Json = {
    [endpoint.success]: endpoint.returns
      ? { description: 'Success', content: { 'application/json': { schema: { $ref: `#/components/schemas/${endpoint.returns}` } } } }
      : { description: endpoint.anyMethod ? 'What the API answered, as it answered it' : 'Success, no content' },
  };
  for (const code of endpoint.errors) {
    const status = HTTP_STATUS[code];
    const existing = responses[status] as { description: string } | undefined;
    responses[status] = {
      description: existing ? `${existing.description}, ${code}` : code,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const parameters = [
    ...[...endpoint.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(endpoint.query ?? []).map((q) => ({ ...q, in: 'query', required: false })),
  ];
  return {
    summary: endpoint.summary,
    tags: [endpoint.tag],
    ...(endpoint.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(endpoint.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(endpoint.body, { target: 'openapi-3.0', io: 'input' }), example: endpoint.bodyExample } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI document served at /docs, built from the endpoint contracts so it cannot drift from the routes. */
export function buildOpenApiDocument(version: string) {
  const paths: Record<string, Json> = {};
  for (const endpoint of Object.values(Endpoints) as Endpoint[]) {
    const methods = endpoint.anyMethod ? ['get', 'post', 'put', 'patch', 'delete'] : [endpoint.method.toLowerCase()];
    for (const method of methods) paths[endpoint.path] = { ...(paths[endpoint.path] ?? {}), [method]: operation(endpoint) };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Plugboard',
      version,
      description:
        'Register third-party services, connect them once, and call their APIs through a connection link name. Products on NATS: the same operations on `<namespace>.api.*`, described in the AsyncAPI document [/docs/asyncapi.json](/docs/asyncapi.json).',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An org API key: `npm run keys -- create --org <id> --role admin` for the first one, then `POST /v1/keys`.' } },
      schemas: responseSchemas,
    },
    paths,
  };
}
