import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { connect, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ApiKeys, authenticate } from '@plugboard/access';
import {
  BUS_API_QUEUE,
  BusApiOperations,
  CorrelationIdSchema,
  DomainError,
  Endpoints,
  ErrorCodes,
  invalidField,
  payloadProblem,
  refusedPayload,
  type BusApiOperation,
  type BusApiReply,
  type Endpoint,
  type ErrorBody,
} from '@plugboard/contracts';
import { natsConnectionOptions, RpcClient } from '@plugboard/messaging';
import { LOGGER, PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { IdempotentCommands, takesIdempotencyKey } from '../idempotency/idempotency.interceptor';
import { BusApiHandlers, splitParams } from './bus-api.operations';

/** The largest request body taken, as over HTTP (1 MiB). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Answers the products' API on `<namespace>.api.>` (see BusApiOperations) with the plain `nats` client, in a queue
 * group shared by the gateway's replicas. Nothing of a request is trusted but its key: the actor comes from the
 * Authorization header, as over REST, and a body that names one is refused. An Idempotency-Key works as over REST
 * (IdempotentCommands), on the operations whose REST route is a POST, PATCH or DELETE.
 */
@Injectable()
export class BusApiResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private connection?: NatsConnection;

  constructor(
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly rpc: RpcClient,
    private readonly commands: IdempotentCommands,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.NATS_URL) return;
    const options = natsConnectionOptions({ natsUrl: this.config.NATS_URL, natsUser: this.config.NATS_USER, natsPassword: this.config.NATS_PASSWORD, namespace: this.config.PLUGBOARD_NAMESPACE, appName: 'gateway' }, 'gateway-api');
    this.connection = await connect({ ...options, maxReconnectAttempts: -1 });
    const prefix = `${this.config.PLUGBOARD_NAMESPACE}.api.`;
    // The gateway's replies from the apps, on this connection and on its RpcClient's alike.
    const ownInbox = `${options.inboxPrefix}.`;
    this.connection.subscribe(`${prefix}>`, {
      queue: BUS_API_QUEUE,
      callback: (error, message) => {
        if (error) return this.logger.error({ err: error }, 'the bus API subscription failed');
        const operation = message.subject.slice(prefix.length);
        // Nobody could learn what a request without a product's inbox to answer did, so it does nothing.
        if (!isClientInbox(message.reply, ownInbox)) return this.logger.warn({ operation }, 'a bus API request without a reply inbox was ignored');
        void this.answer(message, operation);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.drain().catch(() => undefined);
  }

  private async answer(message: Msg, operation: string): Promise<void> {
    let reply: BusApiReply;
    let replayed = false;
    try {
      const outcome = await this.run(operation, message);
      replayed = outcome.replayed;
      reply = { ok: true, result: outcome.result };
    } catch (error) {
      reply = { ok: false, error: this.errorBody(error, operation) };
    }
    // As over HTTP, a kept answer given back for an Idempotency-Key says so.
    const replyHeaders = replayed ? natsHeaders() : undefined;
    replyHeaders?.set('Idempotent-Replayed', 'true');
    message.respond(JSON.stringify(reply), { headers: replyHeaders });
  }

  private async run(operation: string, message: Msg): Promise<{ result: unknown; replayed: boolean }> {
    if (!Object.hasOwn(BusApiOperations, operation)) throw new DomainError(ErrorCodes.notFound, `There is no operation "${operation}" on the bus API; see /docs/asyncapi.json.`);
    const handler = BusApiHandlers[operation as BusApiOperation];
    const headers = message.headers;
    // Who asks first, as the REST guard does: an unauthenticated request learns nothing of its body's faults.
    const { principal, actor } = await authenticate(this.apiKeys, { authorization: header(headers, 'Authorization'), 'x-user-id': header(headers, 'X-User-Id') }, handler.role);
    const input = parseBody(message);
    if (Object.hasOwn(input, 'actor')) throw invalidField('actor', 'not taken: the actor is the Authorization header’s key (and X-User-Id for a product’s key)');
    const { body, param } = splitParams(input, handler.params);
    const requestId = header(headers, 'X-Request-Id');
    const correlationId = requestId !== undefined && CorrelationIdSchema.safeParse(requestId).success ? requestId : randomUUID();
    const call = () => handler.run({ body, param, actor: { ...actor, correlationId }, principal, config: this.config, rpc: this.rpc });
    const key = header(headers, 'Idempotency-Key');
    const endpoint: Endpoint = Endpoints[BusApiOperations[operation as BusApiOperation]];
    if (key === undefined || !takesIdempotencyKey(endpoint.method)) return { result: await call(), replayed: false };
    const command = { key, route: `${endpoint.method} ${endpoint.path}`, actor, fingerprint: ['nats', operation, actor.userId, input] };
    const keyed = await this.commands.run(command, call, () => endpoint.success);
    if (!keyed.replayed) return { result: keyed.answer, replayed: false };
    // A kept refusal is kept as REST keeps it: its status and `{error}`.
    if (keyed.status >= 400) {
      const { error } = keyed.body as { error: ErrorBody };
      throw new DomainError(error.code, error.message, error.details, error.connectLink);
    }
    return { result: keyed.body ?? null, replayed: true };
  }

  private errorBody(error: unknown, operation: string): ErrorBody {
    if (error instanceof DomainError) return error.toBody();
    this.logger.error({ err: error, operation }, 'bus API request failed');
    return { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' };
  }
}

/**
 * Whether a reply subject is a client's inbox (a product's `_INBOX.<product>.…`). The sender names it, and the
 * gateway's user may publish events and the apps' commands (and, by allow_responses, any reply subject): an answer
 * sent to `<namespace>.events.…` or an internal subject would be a forged event or command, one sent to the gateway's
 * own inbox a forged answer to its requests.
 */
function isClientInbox(reply: string | undefined, ownInbox: string): reply is string {
  return reply !== undefined && reply.startsWith('_INBOX.') && !reply.startsWith(ownInbox);
}

/**
 * A header as HTTP names it (NATS header names are case-sensitive, so any case is accepted). Repeated values, under
 * one name or several spellings of it, are joined with ", " as Node joins them over HTTP, so two Authorization or
 * X-User-Id headers are refused rather than one picked from them.
 */
function header(headers: MsgHdrs | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const values = [...headers.keys()].filter((key) => key.toLowerCase() === name.toLowerCase()).flatMap((key) => headers.values(key));
  return values.length === 0 ? undefined : values.join(', ');
}

/** The request's JSON object (an empty message is `{}`), refused as REST refuses a body. */
function parseBody(message: Msg): Record<string, unknown> {
  if (message.data.length > MAX_BODY_BYTES) throw new DomainError(ErrorCodes.payloadTooLarge, 'The request body is larger than 1 MiB.');
  if (message.data.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(message.data).toString('utf8'));
  } catch {
    throw new DomainError(ErrorCodes.malformedJson, 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DomainError(ErrorCodes.malformedJson, 'The request body must be a JSON object.');
  const problem = payloadProblem(body);
  if (problem) throw refusedPayload(problem);
  return body as Record<string, unknown>;
}
