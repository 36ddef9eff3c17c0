import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { fillTemplate } from '@plugboard/catalog';
import {
  DomainError,
  ErrorCodes,
  HTTP_METHODS,
  hasControlCharacter,
  isHeaderValue,
  LinkNameSchema,
  Subjects,
  type Actor,
  type ConnectionView,
  type CreatedConnectLink,
  type ErrorBody,
  type InvokeResponse,
  type Role,
  type ServiceView,
} from '@plugboard/contracts';
import type { RpcClient } from '@plugboard/messaging';

/** The most characters of an API's answer a tool result holds: an agent's context is small, and an answer is not. */
export const MCP_MAX_RESULT_CHARS = 64 * 1024;

/** Who is calling the tools, as the MCP route authenticated them. */
export interface McpCaller {
  actor: Actor;
  role: Role;
}

export interface McpToolsDeps {
  rpc: RpcClient;
  /** The gateway's public URL, for connect links. */
  publicUrl: string;
  version: string;
  /** Errors that are not Plugboard's own (a bug): logged with the request, never shown to the agent. */
  onUnexpected(error: unknown): void;
}

const VIEWS = ['own', 'shared', 'internal'] as const;
const LIST_LIMIT = 200;

/**
 * The MCP server for one request (the transport is stateless): three tools over the same bus operations as REST.
 * Every result is built from fields chosen here, never from a whole record, so no secret can ride along; errors
 * carry Plugboard's code and sentence, and a connect link when the call needs the user's own credential.
 */
export function buildMcpServer(caller: McpCaller, deps: McpToolsDeps): McpServer {
  const server = new McpServer({ name: 'plugboard', version: deps.version }, { instructions: INSTRUCTIONS });
  const { actor } = caller;
  const guarded = (work: () => Promise<CallToolResult>) => guard(work, deps.onUnexpected);

  server.registerTool(
    'list_connections',
    {
      title: 'List connections',
      description: 'The connections you can call APIs through: link name, name, service, status and scopes. Yours, shared with you (authorized with your own account), and internal ones.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      guarded(async () => {
        const seen = new Map<string, ReturnType<typeof connectionSummary>>();
        let more = false;
        for (const view of VIEWS) {
          const page = await deps.rpc.request(Subjects.connection.listConnections, { actor, view, limit: LIST_LIMIT });
          more ||= page.nextCursor !== null;
          for (const connection of page.items) if (!seen.has(connection.linkName)) seen.set(connection.linkName, connectionSummary(connection, view));
        }
        const connections = [...seen.values()];
        return success({ connections, ...(more ? { note: `Only the first ${LIST_LIMIT} connections of each kind are listed.` } : {}) });
      }),
  );

  server.registerTool(
    'describe_connection',
    {
      title: 'Describe a connection',
      description: 'What a connection calls: its service, API base URL, the hosts calls may go to, its scopes and the API documentation link.',
      inputSchema: { connection: z.string().max(200).describe('The connection’s link name, as list_connections gives it.') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ connection: linkName }) =>
      guarded(async () => {
        const connection = await deps.rpc.request(Subjects.connection.getConnection, { actor, linkName: linkNameOf(linkName) });
        const service = await deps.rpc.request(Subjects.registry.getService, { actor, linkName: connection.service });
        return success(describe(connection, service));
      }),
  );

  server.registerTool(
    'call_api',
    {
      title: 'Call an API through a connection',
      description:
        'Calls the third-party API of a connection: Plugboard adds the credentials, so never send any yourself. ' +
        `Returns the status, headers and body; a body longer than ${MCP_MAX_RESULT_CHARS} characters is cut, with a note saying so.`,
      inputSchema: {
        connection: z.string().max(200).describe('The connection’s link name.'),
        method: z.enum(HTTP_METHODS).describe('The HTTP method.'),
        path: z.string().min(1).max(8192).describe('A path under the connection’s base URL (/v1/things), or an absolute URL on one of its allowed hosts.'),
        query: z.record(z.string().max(200), z.string().max(8192)).optional().describe('Query parameters, added to the URL.'),
        headers: z.record(z.string().max(200), z.string().max(8192)).optional().describe('Request headers (no Authorization: Plugboard adds the credentials).'),
        body: z.unknown().optional().describe('JSON (sent as application/json unless a content-type header says otherwise), or a string sent as is.'),
      },
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    (args) =>
      guarded(async () => {
        if (caller.role === 'read_only') throw new DomainError(ErrorCodes.forbidden, 'Calling an API needs the member role; your key has the read_only role.');
        const linkName = linkNameOf(args.connection);
        refuseControlCharacters(args);
        const invoke = { connection: linkName, method: args.method, url: args.path, query: args.query, headers: args.headers, body: args.body };
        try {
          return success(shapeResponse(await deps.rpc.request(Subjects.invoke.request, { actor, invoke, entry: 'mcp' })));
        } catch (error) {
          if (error instanceof DomainError && error.code === ErrorCodes.userNotAuthorized) return failure(await withConnectLink(error, linkName, actor, deps));
          throw error;
        }
      }),
  );

  return server;
}

const INSTRUCTIONS =
  'Plugboard calls third-party APIs for you through named connections, adding the credentials itself: you never see or send a key or token. ' +
  'Start with list_connections, read describe_connection for the base URL, then call_api. ' +
  'When a result carries a connectLink, show that link to the user: once they have connected their account there, make the same call again.';

function connectionSummary(connection: ConnectionView, view: (typeof VIEWS)[number]) {
  return {
    linkName: connection.linkName,
    name: connection.name,
    service: connection.service,
    authType: connection.authType,
    status: connection.status,
    scopes: connection.scopes,
    /** own, shared (someone else's, with your own credential) or internal. */
    kind: view,
    usesYourOwnAccount: connection.useLoginUserCredentials,
  };
}

function describe(connection: ConnectionView, service: ServiceView) {
  const parameters = service.connectionParameters ?? [];
  // A predefined service's URLs may hold {placeholders} filled per connection; shown as the template if one is unset.
  const fill = (template: string) => {
    try {
      return fillTemplate(template, parameters, connection.parameters);
    } catch {
      return template;
    }
  };
  const scopeNames = new Map((service.oauth2?.scopes ?? []).map((scope) => [scope.name, scope.displayName]));
  return {
    linkName: connection.linkName,
    name: connection.name,
    status: connection.status,
    usesYourOwnAccount: connection.useLoginUserCredentials,
    service: { linkName: service.linkName, name: service.name, type: service.type, authType: service.authType, ...(service.description ? { description: service.description } : {}) },
    baseUrl: service.baseUrl === null ? null : fill(service.baseUrl),
    allowedHosts: service.allowedHosts.map(fill),
    scopes: connection.scopes.map((name) => ({ name, displayName: scopeNames.get(name) ?? name })),
    docsUrl: service.docsUrl ?? null,
  };
}

function linkNameOf(value: string): string {
  if (!LinkNameSchema.safeParse(value).success) {
    throw new DomainError(ErrorCodes.validationFailed, 'connection must be a link name: lowercase letters, digits and underscores, starting with a letter (see list_connections).');
  }
  return value;
}

/**
 * A line break in a path or a header would split the request Plugboard sends; a NUL cannot be stored or sent. Refused
 * here with one code, before the call goes anywhere. Query values may hold line breaks (they are percent-encoded), as
 * for POST /v1/invoke; a NUL never.
 */
function refuseControlCharacters(args: { path: string; query?: Record<string, string>; headers?: Record<string, string> }): void {
  const problems: string[] = [];
  if (hasControlCharacter(args.path) || /%00/.test(args.path)) problems.push('path');
  for (const [name, value] of Object.entries(args.query ?? {})) if (hasControlCharacter(name) || value.includes('\u0000')) problems.push(`query ${JSON.stringify(name)}`);
  for (const [name, value] of Object.entries(args.headers ?? {})) if (hasControlCharacter(name) || !isHeaderValue(value)) problems.push(`header ${JSON.stringify(name)}`);
  if (problems.length > 0) {
    throw new DomainError(ErrorCodes.invalidCharacters, `${problems.join(', ')}: must not hold control characters such as NUL or a line break.`);
  }
}

/** The API's answer, cut to size; Set-Cookie dropped (a session the API opened is not the agent's to hold). */
function shapeResponse(response: InvokeResponse) {
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.toLowerCase() !== 'set-cookie'));
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  if (text.length <= MCP_MAX_RESULT_CHARS) return { status: response.status, headers, body: response.body };
  return {
    status: response.status,
    headers,
    body: text.slice(0, MCP_MAX_RESULT_CHARS),
    truncated: { shownCharacters: MCP_MAX_RESULT_CHARS, totalCharacters: text.length },
    note: `The body was cut to its first ${MCP_MAX_RESULT_CHARS} of ${text.length} characters. Ask for less (a filter, a smaller page) to see all of it.`,
  };
}

/**
 * Just-in-time authorization: the call needs this user's own credential, which does not exist yet. The error carries
 * a connect link for the agent to show the user; once they finish, the same call works. When no link can be made
 * (the connection app cannot, or does not answer), the error says how to authorize instead.
 */
async function withConnectLink(error: DomainError, linkName: string, actor: Actor, deps: McpToolsDeps): Promise<ErrorBody> {
  try {
    // The invoke proxy makes one itself for a product's key; a person's key gets theirs here (for themselves only).
    const link: CreatedConnectLink = error.toBody().connectLink ?? await deps.rpc.request(Subjects.connection.createConnectLink, { actor, link: { connection: linkName, user: actor.userId }, publicUrl: deps.publicUrl });
    return {
      code: error.code,
      message: `The connection "${linkName}" needs your own account, which you have not connected yet. Open the connect link (until ${link.expiresAt}), connect, then make the same call again.`,
      connectLink: { url: link.url, expiresAt: link.expiresAt },
    };
  } catch {
    return error.toBody();
  }
}

async function guard(work: () => Promise<CallToolResult>, onUnexpected: (error: unknown) => void): Promise<CallToolResult> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) return failure(error.toBody());
    // Anything else is a fault of ours; its text may name internals, so the agent gets the generic sentence.
    onUnexpected(error);
    return failure({ code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' });
  }
}

function success(value: object): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

function failure(error: ErrorBody): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error }) }] };
}
