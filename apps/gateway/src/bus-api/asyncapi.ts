import { z } from 'zod';
import { BusApiOperations, Endpoints, ErrorCodes, IntegrationEventTypes, type BusApiOperation, type Endpoint, type ErrorCode } from '@plugboard/contracts';
import { responseSchemas, type Json } from '../http/openapi';
import { takesIdempotencyKey } from '../idempotency/idempotency.interceptor';
import { BusApiHandlers } from './bus-api.operations';

/** What any request on the bus API may be refused with, besides its REST endpoint's own codes. */
const BUS_ERRORS: ErrorCode[] = [
  ErrorCodes.unauthenticated,
  ErrorCodes.forbidden,
  ErrorCodes.userMismatch,
  ErrorCodes.validationFailed,
  ErrorCodes.malformedJson,
  ErrorCodes.tooDeeplyNested,
  ErrorCodes.payloadTooLarge,
  ErrorCodes.timeout,
  ErrorCodes.unavailable,
  ErrorCodes.internal,
];

const RequestHeaders: Json = {
  type: 'object',
  required: ['Authorization'],
  properties: {
    Authorization: { type: 'string', pattern: '^Bearer \\S+$', description: 'Bearer <API key>: the key fixes the org and the role; a person’s key acts as its user.' },
    'X-User-Id': { type: 'string', description: 'A product’s key (actAs "any"): the user it acts for. A person’s key naming another user is user_mismatch.' },
    'X-Request-Id': { type: 'string', description: 'Becomes the correlationId of the events the request causes.' },
    'Idempotency-Key': {
      type: 'string',
      description: 'On commands (the operations whose REST route is a POST, PATCH or DELETE), as over REST: a repeat within 24 hours gets the kept answer back, with the reply header Idempotent-Replayed: true, and changes nothing.',
    },
  },
};

/** The request body: the REST body with the path parameters (and a list's query parameters) as fields. */
function requestSchema(endpoint: Endpoint, params: readonly string[]): Json {
  const fields: Record<string, Json> = Object.fromEntries(params.map((name) => [name, { type: 'string', description: `The {${name}} of ${endpoint.path}.` }]));
  for (const query of endpoint.query ?? []) fields[query.name] = { ...query.schema, description: query.description };
  const body = endpoint.body ? (z.toJSONSchema(endpoint.body, { target: 'draft-7', io: 'input' }) as Json) : { type: 'object', properties: {} };
  delete body.$schema;
  const required = [...((body.required as string[] | undefined) ?? []), ...params];
  const merged: Json =
    body.type === 'object'
      ? { ...body, properties: { ...(body.properties as Json), ...fields }, ...(required.length ? { required } : {}) }
      : { allOf: [body, { type: 'object', properties: fields, required: [...params] }] };
  return { ...merged, description: 'Plain JSON. Never an `actor`: the caller is the Authorization header’s key (a body naming one is validation_failed).' };
}

function replySchema(endpoint: Endpoint, errors: ErrorCode[]): Json {
  const result = endpoint.returns ? { $ref: `#/components/schemas/${endpoint.returns}` } : { type: 'object', properties: { deleted: { type: 'boolean', const: true } } };
  return {
    oneOf: [
      { type: 'object', required: ['ok', 'result'], properties: { ok: { const: true }, result } },
      {
        type: 'object',
        required: ['ok', 'error'],
        properties: {
          ok: { const: false },
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: errors, description: 'Stable, for programs; the same codes as REST.' },
              message: { type: 'string', description: 'A sentence for a person.' },
              details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
              connectLink: { type: 'object', properties: { url: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } },
            },
          },
        },
      },
    ],
  };
}

/** The error codes one operation documents (and answers with). */
export function busApiErrors(operation: BusApiOperation): ErrorCode[] {
  const endpoint: Endpoint = Endpoints[BusApiOperations[operation]];
  const params = BusApiHandlers[operation].params.length ? [ErrorCodes.invalidCharacters] : [];
  const keyed = takesIdempotencyKey(endpoint.method)
    ? [ErrorCodes.idempotencyKeyInvalid, ErrorCodes.idempotencyKeyNotSupported, ErrorCodes.idempotencyKeyReused, ErrorCodes.idempotencyKeyInProgress]
    : [];
  return [...new Set([...endpoint.errors, ...params, ...keyed, ...BUS_ERRORS])];
}

const EventMessageSchema = (type: string): Json => ({
  type: 'object',
  required: ['id', 'type', 'streamId', 'streamVersion', 'position', 'data', 'metadata', 'recordedAt'],
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The event’s id; also the JetStream message id (Nats-Msg-Id), so a republished event is de-duplicated.' },
    type: { type: 'string', const: type },
    streamId: { type: 'string', example: 'connection-acme.sales_crm' },
    streamVersion: { type: 'integer' },
    position: { type: 'integer', description: 'Its place in the log (GET /v1/events?after=<position> reads on from it).' },
    data: { type: 'object', description: 'What happened; never a secret (only vault references).' },
    metadata: { type: 'object', description: 'orgId, userId, correlationId (the X-Request-Id of the request), causationId.', additionalProperties: true },
    recordedAt: { type: 'string', format: 'date-time' },
  },
});

/**
 * The AsyncAPI 3 document served at /docs/asyncapi.json: every `<namespace>.api.*` operation (built from its REST
 * endpoint's contract and the bus handlers' table) and every `<namespace>.events.<Type>` subject, so it cannot drift.
 */
export function buildAsyncApiDocument(version: string, namespace: string) {
  const stream = `${namespace.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}_EVENTS`;
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const messages: Record<string, Json> = {};
  for (const operation of Object.keys(BusApiOperations) as BusApiOperation[]) {
    const endpoint: Endpoint = Endpoints[BusApiOperations[operation]];
    const { role, params } = BusApiHandlers[operation];
    const errors = busApiErrors(operation);
    const id = operation.replace(/\./g, '_');
    messages[`${id}_request`] = { name: `${operation} request`, headers: RequestHeaders, payload: requestSchema(endpoint, params) };
    messages[`${id}_reply`] = { name: `${operation} reply`, payload: replySchema(endpoint, errors) };
    channels[id] = { address: `${namespace}.api.${operation}`, messages: { request: { $ref: `#/components/messages/${id}_request` } } };
    channels[`${id}_reply`] = { address: null, description: 'The request’s reply subject (an inbox of the caller’s).', messages: { reply: { $ref: `#/components/messages/${id}_reply` } } };
    operations[id] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      summary: endpoint.summary,
      description: `As ${endpoint.method} ${endpoint.path}; needs the ${role} role. Errors: ${errors.join(', ')}.`,
      messages: [{ $ref: `#/channels/${id}/messages/request` }],
      reply: { channel: { $ref: `#/channels/${id}_reply` }, messages: [{ $ref: `#/channels/${id}_reply/messages/reply` }] },
    };
  }
  for (const [type, description] of Object.entries(IntegrationEventTypes)) {
    const id = `events_${type}`;
    messages[id] = {
      name: type,
      summary: description,
      headers: { type: 'object', properties: { 'Nats-Msg-Id': { type: 'string', format: 'uuid', description: 'The event id (JetStream de-duplication).' } } },
      payload: EventMessageSchema(type),
    };
    channels[id] = { address: `${namespace}.events.${type}`, description: `In JetStream stream ${stream} (subjects ${namespace}.events.>), in log order.`, messages: { event: { $ref: `#/components/messages/${id}` } } };
    operations[id] = { action: 'send', channel: { $ref: `#/channels/${id}` }, summary: description, messages: [{ $ref: `#/channels/${id}/messages/event` }] };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Plugboard over NATS',
      version,
      description:
        'Products call Plugboard on `<namespace>.api.<operation>` with plain JSON and NATS headers named as over HTTP, and read its events on `<namespace>.events.<Type>` ' +
        `(JetStream stream ${stream}). Replies are \`{"ok":true,"result":…}\` or \`{"ok":false,"error":{"code","message","details"?}}\`. ` +
        'With the deployment’s NATS users (deploy/kubernetes/nats.conf), products connect as `product` with the inbox prefix `_INBOX.product`. REST: /docs.',
    },
    defaultContentType: 'application/json',
    servers: { nats: { host: 'nats:4222', protocol: 'nats', description: 'The deployment’s NATS (NATS_URL).' } },
    channels,
    operations,
    components: { schemas: responseSchemas, messages },
  };
}
