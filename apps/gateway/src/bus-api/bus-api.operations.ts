import type { Principal } from '@plugboard/access';
import {
  DomainError,
  ErrorCodes,
  hasControlCharacter,
  invalidField,
  parseOrThrow,
  RevokeConnectionInputSchema,
  CreateConnectLinkInputSchema,
  Subjects,
  type Actor,
  type BusApiOperation,
  type Role,
  type RpcContracts,
  type RpcSubject,
} from '@plugboard/contracts';
import type { RpcClient } from '@plugboard/messaging';
import { publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { buildSnippets } from '../http/snippets';

/**
 * What an operation is called with: its REST route's body and path parameters, and who sent it as the Authorization
 * header says. The bus API and gRPC both call the operations with it, each from its own request shape.
 */
export interface BusApiCall {
  body: Record<string, unknown>;
  param: Record<string, string>;
  actor: Actor;
  principal: Principal;
  config: PlatformConfig;
  rpc: RpcClient;
}

/** One operation: the least role it needs (as its REST route's) and what it asks of the apps. */
export interface BusApiHandler {
  role: Role;
  /** The path parameters of its REST route (on the bus, fields of the body; in gRPC, fields of the request). */
  params: readonly string[];
  run(call: BusApiCall): Promise<unknown>;
}

/**
 * An operation forwarded to one internal subject. `payload` builds the internal request from the REST body and the
 * path parameters, exactly as the REST route does (apps/gateway/src/routes/*.routes.ts).
 */
function forward<S extends RpcSubject>(subject: S, role: Role, params: readonly string[], payload: (call: BusApiCall) => RpcContracts[S]['request']): BusApiHandler {
  return { role, params, run: (call) => call.rpc.request(subject, payload(call)) };
}

const LINK = ['linkName'] as const;

/**
 * Every `<namespace>.api.<operation>`, once: what REST semantics it has lives here and nowhere else on the bus side.
 * Roles are those of the REST routes (`@RequiresRole`); a route that says none needs `read_only`.
 */
export const BusApiHandlers: Record<BusApiOperation, BusApiHandler> = {
  'services.list': forward(Subjects.registry.listServices, 'read_only', [], ({ body, actor }) => ({ ...body, actor }) as never),
  'services.create': forward(Subjects.registry.createService, 'member', [], ({ body, actor }) => ({ actor, service: body as never })),
  'services.get': forward(Subjects.registry.getService, 'read_only', LINK, ({ param, actor }) => ({ actor, linkName: param.linkName })),
  'services.edit': forward(Subjects.registry.editService, 'member', LINK, ({ param, body, actor }) => ({ actor, linkName: param.linkName, changes: body as never })),
  'services.delete': forward(Subjects.registry.deleteService, 'member', LINK, ({ param, actor }) => ({ actor, linkName: param.linkName })),
  'services.setClient': forward(Subjects.registry.setServiceClient, 'admin', LINK, ({ param, body, actor }) => ({ actor, linkName: param.linkName, client: body as never })),
  'services.removeClient': forward(Subjects.registry.removeServiceClient, 'admin', LINK, ({ param, actor }) => ({ actor, linkName: param.linkName })),
  'connections.list': forward(Subjects.connection.listConnections, 'read_only', [], ({ body, actor }) => ({ ...body, actor }) as never),
  'connections.create': forward(Subjects.connection.createConnection, 'member', [], ({ body, actor }) => ({ actor, connection: body as never })),
  'connections.get': forward(Subjects.connection.getConnection, 'read_only', LINK, ({ param, actor }) => ({ actor, linkName: param.linkName })),
  'connections.edit': forward(Subjects.connection.editConnection, 'member', LINK, ({ param, body, actor }) => ({ actor, linkName: param.linkName, changes: body as never })),
  // No browser: a product authorizes with key or password values, or hands the user a connect link for OAuth.
  'connections.authorize': forward(Subjects.connection.authorizeConnection, 'member', LINK, ({ param, body, actor }) => ({ actor, linkName: param.linkName, authorization: body as never })),
  'connections.revoke': forward(Subjects.connection.revokeConnection, 'member', LINK, ({ param, body, actor, principal }) => ({
    actor,
    linkName: param.linkName,
    all: parseOrThrow(RevokeConnectionInputSchema, body).all,
    byAdmin: principal.role === 'admin',
  })),
  'connections.delete': forward(Subjects.connection.deleteConnection, 'member', LINK, ({ param, actor }) => ({ actor, linkName: param.linkName })),
  'connections.snippet': {
    role: 'read_only',
    params: LINK,
    run: async ({ param, actor, config, rpc }) => {
      const connection = await rpc.request(Subjects.connection.getConnection, { actor, linkName: param.linkName });
      return buildSnippets(connection, { publicUrl: publicUrlOf(config), namespace: config.PLUGBOARD_NAMESPACE, overNats: Boolean(config.NATS_URL), userId: actor.userId });
    },
  },
  invoke: forward(Subjects.invoke.request, 'member', [], ({ body, actor }) => ({ actor, invoke: body as never })),
  'connectLinks.create': forward(Subjects.connection.createConnectLink, 'member', [], ({ body, actor, config }) => {
    const input = parseOrThrow(CreateConnectLinkInputSchema, body);
    return { actor, link: { ...input, user: input.user ?? actor.userId }, publicUrl: publicUrlOf(config) };
  }),
  'webhook.register': forward(Subjects.connection.registerWebhook, 'admin', [], ({ body, actor }) => ({ actor, webhook: body as never })),
  'webhook.get': forward(Subjects.connection.getWebhook, 'admin', [], ({ actor }) => ({ actor })),
  'webhook.remove': forward(Subjects.connection.removeWebhook, 'admin', [], ({ actor }) => ({ actor })),
  'webhook.rotateSecret': forward(Subjects.connection.rotateWebhookSecret, 'admin', [], ({ actor }) => ({ actor })),
  'webhook.deliveries': forward(Subjects.connection.listWebhookDeliveries, 'admin', [], ({ body, actor }) => ({ ...body, actor }) as never),
};

/**
 * The path parameters a request names, checked as the gateway checks a path (present, text, and without the control
 * characters — NUL, CR, LF… — no route takes: `invalid_characters`, see requestTargetProblem).
 */
export function checkParams(input: Record<string, unknown>, params: readonly string[]): Record<string, string> {
  for (const name of params) {
    const value = input[name];
    if (typeof value !== 'string' || value === '') throw invalidField(name, 'required: the text of the path parameter of the REST route');
    if (hasControlCharacter(value)) {
      const message = 'holds control characters (such as NUL or a line break), which no route takes';
      throw new DomainError(ErrorCodes.invalidCharacters, `The request is not valid. ${name}: ${message}.`, [{ path: name, message }]);
    }
  }
  return Object.fromEntries(params.map((name) => [name, input[name] as string]));
}

/** A bus request's body split as REST splits a request: the checked path parameters, and the rest as the body. */
export function splitParams(input: Record<string, unknown>, params: readonly string[]): Pick<BusApiCall, 'body' | 'param'> {
  const param = checkParams(input, params);
  return { param, body: Object.fromEntries(Object.entries(input).filter(([name]) => !params.includes(name))) };
}
