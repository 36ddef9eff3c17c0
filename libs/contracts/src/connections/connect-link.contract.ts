import { z } from 'zod';
import { ActorSchema, CorrelationIdSchema, LinkNameSchema, UserIdSchema } from '../identifiers';
import type { AuthType } from '../services/service.contract';
import { AuthorizeConnectionInputSchema, BrowserBindingSchema } from './connection.contract';

/**
 * Connect links: a single-use, expiring URL (`<public url>/console/connect/<token>`) that lets one named user
 * authorize their own credential of one connection in a browser, with no key. The token is 256 random bits; only
 * its SHA-256 is stored. A link is tied to its org, connection and user, and used up by its first completed
 * authorization (API key, Basic) or by the first OAuth start (that browser may start again until it completes).
 */

export const CONNECT_LINK_DEFAULT_SECONDS = 30 * 60;
export const CONNECT_LINK_MAX_SECONDS = 7 * 24 * 3600;

/** `POST /v1/connect-links`. A person (key or session) may make links for themselves only; a product for any user. */
export const CreateConnectLinkInputSchema = z.strictObject({
  /** The connection's link name. */
  connection: LinkNameSchema,
  /** Whose credential the link authorizes; a person's key or session may leave it out (themselves). */
  user: UserIdSchema.optional(),
  /** Where the browser goes when done, with `plugboard_status` and `connection` added: an allowed origin only. */
  returnUrl: z.string().max(2048).optional(),
  /** Seconds until the link expires: 60 to 604800 (7 days); 1800 when not given. */
  expiresIn: z.number().int('must be a whole number of seconds').min(60, 'must be at least 60 seconds').max(CONNECT_LINK_MAX_SECONDS, 'must be at most 604800 seconds (7 days)').optional(),
});
export type CreateConnectLinkInput = z.infer<typeof CreateConnectLinkInputSchema>;

/** The answer: hand `url` to the user. It is shown this once; only its hash is kept. */
export interface CreatedConnectLink {
  url: string;
  expiresAt: string;
}

/** What the link's page shows (`GET /v1/connect-links/{token}`, no key): never a secret, never another user. */
export interface ConnectLinkView {
  /** `active`: it can be used; `used`: completed (or started in another browser); `expired`. */
  status: 'active' | 'used' | 'expired';
  expiresAt: string;
  /** The user whose credential this link authorizes ("You are connecting as …"). */
  user: string;
  connection: { name: string; linkName: string };
  service: { name: string; linkName: string; authType: AuthType };
  /** OAuth 2: the scopes the connection asks for, with their display names when the service names them. */
  scopes: { name: string; displayName: string }[];
  /** API key: the values to ask for, labelled with their display names. Basic asks for username and password. */
  parameters: { name: string; displayName: string }[];
  /** Whether the link ends on a returnUrl (else on Plugboard's result page). */
  returnsTo: string | null;
}

/** `POST /v1/connect-links/{token}/authorize`: API key `{values}`, Basic `{username, password}`, OAuth `{}`. */
export const AuthorizeConnectLinkInputSchema = AuthorizeConnectionInputSchema.pick({ values: true, username: true, password: true });
export type AuthorizeConnectLinkInput = z.infer<typeof AuthorizeConnectLinkInputSchema>;

/**
 * API key and Basic: `{status: "connected", returnUrl}` (the returnUrl with `plugboard_status=connected` added, or
 * null: show a result page). OAuth: `{authorizeUrl}`; the answer also sets a cookie binding this browser, and the
 * callback completes only in it.
 */
export type ConnectLinkAuthorizeResult = { status: 'connected'; connection: string; returnUrl: string | null } | { authorizeUrl: string };

/** What `409 user_not_authorized` carries for a product key: a link to hand to that user. */
export interface ConnectLinkHint {
  url: string;
  expiresAt: string;
}

const TokenSchema = z.string().max(200);

export const CreateConnectLinkRequestSchema = z.strictObject({
  actor: ActorSchema,
  /** The input, with the user filled in (a person's own when they left it out). */
  link: CreateConnectLinkInputSchema.required({ user: true }),
  /** Where the console is (the gateway's public URL); the connection app's own PLUGBOARD_PUBLIC_URL when absent. */
  publicUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
});
export type CreateConnectLinkRequest = z.infer<typeof CreateConnectLinkRequestSchema>;
export const DescribeConnectLinkRequestSchema = z.strictObject({ token: TokenSchema });
export type DescribeConnectLinkRequest = z.infer<typeof DescribeConnectLinkRequestSchema>;
export const AuthorizeConnectLinkRequestSchema = z.strictObject({ token: TokenSchema, authorization: AuthorizeConnectLinkInputSchema, browser: BrowserBindingSchema, correlationId: CorrelationIdSchema.optional() });
export type AuthorizeConnectLinkRequest = z.infer<typeof AuthorizeConnectLinkRequestSchema>;
