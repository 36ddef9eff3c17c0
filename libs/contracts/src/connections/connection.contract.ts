import { z } from 'zod';
import { ApiKeyValueSchema, SecretTextSchema } from '../characters';
import { ActorSchema, DisplayNameSchema, LinkNameSchema } from '../identifiers';
import type { AuthType } from '../services/service.contract';
import type { ConnectionCallError } from './connection.events';

export const ConnectionStatusSchema = z.enum(['pending', 'connected', 'revoked', 'deleted']);
export type ConnectionStatus = z.infer<typeof ConnectionStatusSchema>;

/** Why a credential stopped working (`verification_failed`: the service's verification call answered 401 or 403). */
/** `revoked_for_all`: the owner (or an admin) revoked every user's credential at once (POST …/revoke {"all": true}). */
export type RevokedReason = 'user' | 'service_edited' | 'refresh_failed' | 'verification_failed' | 'revoked_for_all';

const ScopesSchema = z.array(z.string().min(1).max(200).regex(/^\S+$/, 'must not contain spaces')).max(100);

export const CreateConnectionInputSchema = z.strictObject({
  name: DisplayNameSchema,
  /** Derived from the name when absent (`linkNameFromName`), with `_2`, `_3`… when that one is taken. */
  linkName: LinkNameSchema.optional(),
  /** Link name of the service: predefined, or custom in the caller's org. */
  service: z.string().min(1).max(200),
  scopes: ScopesSchema.optional(),
  /** Values the service declares per connection (a shop, a subdomain, a region). */
  parameters: z.record(z.string().max(100), z.string().max(200)).optional(),
  /** Each user authorizes with their own credentials; the owner's are never used for someone else. */
  useLoginUserCredentials: z.boolean().default(false),
  /** Created by a product for its own use: revocable, never edited or deleted. */
  internal: z.boolean().default(false),
});
export type CreateConnectionInput = z.infer<typeof CreateConnectionInputSchema>;

/** Only the name and the scopes change; the other fields are accepted so the refusal can name them. */
export const EditConnectionInputSchema = z.strictObject({
  name: DisplayNameSchema.optional(),
  scopes: ScopesSchema.optional(),
  linkName: z.unknown().optional(),
  service: z.unknown().optional(),
  parameters: z.unknown().optional(),
  useLoginUserCredentials: z.unknown().optional(),
  internal: z.unknown().optional(),
});
export type EditConnectionInput = z.infer<typeof EditConnectionInputSchema>;

/** What authorizing takes, by auth type: API key values, Basic credentials, or (OAuth) where to return after. */
export const AuthorizeConnectionInputSchema = z.strictObject({
  // Refused here, before anything is stored: a line break or a NUL in a credential would break every later call.
  values: z.record(z.string().max(100), ApiKeyValueSchema.min(1, 'must not be empty').max(4096)).optional(),
  // A colon ends the username in a Basic credential (RFC 7617), so one inside it would change who signs in.
  username: SecretTextSchema.min(1, 'must not be empty').max(512).refine((name) => !name.includes(':'), 'must not hold a colon').optional(),
  password: SecretTextSchema.min(1, 'must not be empty').max(4096).optional(),
  /** Where the browser goes after an OAuth authorization: on an origin the deployment allows (return_url_not_allowed). */
  returnUrl: z.string().max(2048).optional(),
  /** OAuth: the region whose callback URL the provider sends the user back to (PLUGBOARD_REGION_URLS). */
  region: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a region name such as eu').optional(),
});
export type AuthorizeConnectionInput = z.infer<typeof AuthorizeConnectionInputSchema>;

const LinkNameRef = z.string().max(200);

export const CreateConnectionRequestSchema = z.strictObject({ actor: ActorSchema, connection: CreateConnectionInputSchema });
export type CreateConnectionRequest = z.input<typeof CreateConnectionRequestSchema>;
export const ConnectionRequestSchema = z.strictObject({ actor: ActorSchema, linkName: LinkNameRef });
export type ConnectionRequest = z.infer<typeof ConnectionRequestSchema>;
/** `POST /v1/connections/{linkName}/revoke`: the caller's own credential, or with `all` every user's (owner or admin). */
export const RevokeConnectionInputSchema = z.strictObject({ all: z.boolean().default(false) });
export type RevokeConnectionInput = z.input<typeof RevokeConnectionInputSchema>;
/** `byAdmin`: the gateway found the caller's role to be admin (the bus is inside the trust boundary). */
export const RevokeConnectionRequestSchema = z.strictObject({ actor: ActorSchema, linkName: LinkNameRef, all: z.boolean().default(false), byAdmin: z.boolean().default(false) });
export type RevokeConnectionRequest = z.input<typeof RevokeConnectionRequestSchema>;
export const EditConnectionRequestSchema = z.strictObject({ actor: ActorSchema, linkName: LinkNameRef, changes: EditConnectionInputSchema });
export type EditConnectionRequest = z.infer<typeof EditConnectionRequestSchema>;
/** A sha256 (hex) of the browser's binding cookie: an OAuth flow's callback completes only in the browser that started it. */
export const BrowserBindingSchema = z.string().regex(/^[0-9a-f]{64}$/);
export const AuthorizeConnectionRequestSchema = z.strictObject({ actor: ActorSchema, linkName: LinkNameRef, authorization: AuthorizeConnectionInputSchema, browser: BrowserBindingSchema.optional() });
export type AuthorizeConnectionRequest = z.infer<typeof AuthorizeConnectionRequestSchema>;
export const ListConnectionsRequestSchema = z.strictObject({
  actor: ActorSchema,
  /** own: created by me; shared: someone else's, authorized with my credentials; internal: made by products. */
  view: z.enum(['own', 'shared', 'internal']).default('own'),
  limit: z.coerce.number().int().min(1, 'must be between 1 and 200').max(200, 'must be between 1 and 200').default(50),
  cursor: z.string().max(200).optional(),
});
export type ListConnectionsRequest = z.input<typeof ListConnectionsRequestSchema>;

/** A connection is `degraded` after this many API answers in a row that a refresh could not fix (401, 403). */
export const CONNECTION_DEGRADED_AFTER = 3;

/** A connection as the calling user sees it: with `useLoginUserCredentials`, the status is that of their own credential. */
export interface ConnectionView {
  name: string;
  linkName: string;
  service: string;
  serviceType: 'predefined' | 'custom';
  authType: AuthType;
  scopes: string[];
  parameters: Record<string, string>;
  useLoginUserCredentials: boolean;
  internal: boolean;
  owner: string;
  status: ConnectionStatus;
  revokedReason: RevokedReason | null;
  /** The scopes changed since the last authorization: authorize again to use them. */
  reauthorizationRequired: boolean;
  lastAuthorizedAt: string | null;
  lastRefreshedAt: string | null;
  /** Health, from the calls made through it (any user's): see CONNECTION_DEGRADED_AFTER. */
  health: 'healthy' | 'degraded';
  /** When a call through it last reached its API. */
  lastUsedAt: string | null;
  /** The last answer no refresh could fix (401 or 403); kept after a success, for the record. */
  lastError: ConnectionCallError | null;
  /** Such answers in a row since the last success. */
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

/** What authorizing answered: the connection, or (OAuth) the provider's page to send the user to. */
export type AuthorizeResult = { connection: ConnectionView } | { authorizeUrl: string };

/** Ready-to-paste calls through a connection (`GET /v1/connections/{linkName}/snippet`). */
export interface ConnectionSnippets {
  curl: string;
  /** curl through the passthrough proxy: the API's own answer, as it answered. */
  proxyCurl: string;
  typescript: string;
  /** Null in embedded mode, which has no NATS. */
  nats: string | null;
}

/** A provider's redirect back to Plugboard, passed on by the gateway's callback routes. */
export const CompleteAuthorizationRequestSchema = z.strictObject({
  protocol: z.enum(['oauth1', 'oauth2']),
  params: z.record(z.string().max(100), z.string().max(4096)),
  /** The browser-binding cookie's hash, when the browser sent one (see AuthorizeConnectionRequest.browser). */
  browser: BrowserBindingSchema.optional(),
});
export type CompleteAuthorizationRequest = z.infer<typeof CompleteAuthorizationRequestSchema>;

export interface CompletedAuthorization {
  outcome: 'connected' | 'denied' | 'failed';
  /** A sentence for the person in the browser. */
  message: string;
  linkName: string | null;
  returnUrl: string | null;
}
