import { z } from 'zod';
import { HeaderValueSchema } from '../characters';
import { ActorSchema } from '../identifiers';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** A call to a third-party API through a connection: Plugboard adds the credentials. */
export const InvokeInputSchema = z.strictObject({
  /** The connection's link name. */
  connection: z.string().min(1).max(200),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(', ')}` })),
  /** Absolute (on one of the service's allowed hosts) or relative to the service's API base URL. */
  url: z.string().min(1).max(8192),
  headers: z
    .record(
      z.string().max(200).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'),
      HeaderValueSchema,
    )
    .optional(),
  query: z.record(z.string().max(200), z.string().max(8192)).optional(),
  /** JSON (sent as application/json unless a content-type says otherwise) or a string sent as is. */
  body: z.unknown().optional(),
});
export type InvokeInput = z.input<typeof InvokeInputSchema>;

/** Which door a call came in by, for the invocation log and metrics: REST and the bus (`invoke`), or an agent's MCP tool (`mcp`). */
export const INVOKE_ENTRIES = ['invoke', 'mcp'] as const;
export type InvokeEntry = (typeof INVOKE_ENTRIES)[number];

export const InvokeRequestSchema = z.strictObject({ actor: ActorSchema, invoke: InvokeInputSchema, entry: z.enum(INVOKE_ENTRIES).optional() });
export type InvokeRequest = z.input<typeof InvokeRequestSchema>;

/** What the API answered. `body` is parsed JSON when the API said JSON, else text. */
export interface InvokeResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}
