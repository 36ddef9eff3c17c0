import { z } from 'zod';
import { ActorSchema, DisplayNameSchema, LinkNameSchema } from '../identifiers';
import type { ServiceClientView } from './service-client.contract';

export const AuthTypeSchema = z.enum(['api_key', 'basic', 'oauth1', 'oauth2']);
export type AuthType = z.infer<typeof AuthTypeSchema>;

/** Where a credential travels on each call: query string, form data or header. */
export const ParamTypeSchema = z.enum(['query', 'form', 'header']);
export type ParamType = z.infer<typeof ParamTypeSchema>;

const UrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048, 'must be 2048 characters or fewer');
const HostSchema = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/, 'must be a host name such as api.example.com or *.example.com');
const SecretSchema = z.string().min(1, 'must not be empty').max(4096);

/** Parameters the OAuth 2 client sets itself: a service may not set them in its extra parameters. */
export const RESERVED_AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method'] as const;
export const RESERVED_TOKEN_PARAMS = ['client_id', 'client_secret', 'grant_type', 'code', 'redirect_uri', 'refresh_token', 'code_verifier', 'scope'] as const;

/**
 * Provider-specific parameters (`access_type`, `prompt`, `audience`, `resource`…): name → value, at most 20. The names the
 * OAuth client sets itself are refused, so an extra parameter can never replace the redirect URI, the state or PKCE.
 */
function extraParamsSchema(reserved: readonly string[]) {
  return z
    .record(z.string(), z.string().min(1, 'must not be empty').max(500))
    .refine((params) => Object.keys(params).length <= 20, 'at most 20 parameters')
    .superRefine((params, ctx) => {
      for (const name of Object.keys(params)) {
        if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a parameter name (letters, digits, _ . -)' });
        else if (reserved.includes(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by Plugboard itself and cannot be overridden` });
      }
    });
}
export const ExtraAuthorizeParamsSchema = extraParamsSchema(RESERVED_AUTHORIZE_PARAMS);
export const ExtraTokenParamsSchema = extraParamsSchema(RESERVED_TOKEN_PARAMS);

export const ApiKeyParamSchema = z.strictObject({
  name: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'must hold only letters, digits, dots, dashes or underscores'),
  displayName: DisplayNameSchema,
  paramType: ParamTypeSchema,
});
export type ApiKeyParam = z.infer<typeof ApiKeyParamSchema>;

/** Seed 004: "as many parameters as required"; the bound only keeps a request and an event to a sane size. */
export const MAX_API_KEY_PARAMS = 100;

/**
 * An API key's parameters, each name once: the credential holds one value per name, so two parameters of one name
 * would silently send the same value twice. Header names differ by more than case (HTTP ignores it).
 */
const ApiKeyParamsSchema = z
  .array(ApiKeyParamSchema)
  .min(1)
  .max(MAX_API_KEY_PARAMS, `at most ${MAX_API_KEY_PARAMS} parameters`)
  .superRefine((params, ctx) => {
    const same = (a: ApiKeyParam, b: ApiKeyParam) => a.name === b.name || (a.paramType === 'header' && b.paramType === 'header' && a.name.toLowerCase() === b.name.toLowerCase());
    params.forEach((param, index) => {
      if (params.slice(0, index).some((other) => same(other, param))) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `${param.name} is already a parameter of this service: each parameter name may be used once` });
    });
  });

export const OAuth2ScopeSchema = z.strictObject({
  name: z.string().min(1).max(200).regex(/^\S+$/, 'must not contain spaces'),
  displayName: DisplayNameSchema,
});

/** A cheap authenticated call, relative to the base URL, that proves a credential works (401/403: it does not). */
export const VerifySchema = z.strictObject({
  method: z.literal('GET'),
  path: z.string().max(500).regex(/^\/(?!\/)\S*$/, 'must be a path relative to baseUrl, starting with a single /'),
});
export type Verify = z.infer<typeof VerifySchema>;

const common = {
  name: DisplayNameSchema,
  linkName: LinkNameSchema,
  baseUrl: UrlSchema.optional(),
  /** Hosts the credentials may be sent to; the base URL's host when not given. */
  allowedHosts: z.array(HostSchema).max(20).optional(),
  /** Checked when API key or Basic credentials are posted, and again on a schedule for credentials that never expire. */
  verify: VerifySchema.optional(),
};

export const CreateServiceInputSchema = z.discriminatedUnion('authType', [
  z.strictObject({ ...common, authType: z.literal('api_key'), apiKey: z.strictObject({ params: ApiKeyParamsSchema }) }),
  z.strictObject({ ...common, authType: z.literal('basic') }),
  z.strictObject({
    ...common,
    authType: z.literal('oauth1'),
    oauth1: z.strictObject({
      consumerKey: z.string().min(1).max(512),
      consumerSecret: SecretSchema,
      requestTokenUrl: UrlSchema,
      authorizeUrl: UrlSchema,
      accessTokenUrl: UrlSchema,
      paramType: ParamTypeSchema,
    }),
  }),
  z.strictObject({
    ...common,
    authType: z.literal('oauth2'),
    oauth2: z.strictObject({
      grantType: z.enum(['authorization_code', 'client_credentials']),
      clientId: z.string().min(1).max(512),
      clientSecret: SecretSchema,
      authorizeUrl: UrlSchema.optional(),
      accessTokenUrl: UrlSchema,
      refreshTokenUrl: UrlSchema.optional(),
      /** RFC 7009 endpoint: called when a connection is revoked or deleted. */
      revokeUrl: UrlSchema.optional(),
      paramType: z.enum(['query', 'header']),
      scopes: z.array(OAuth2ScopeSchema).max(100).default([]),
      scopeDelimiter: z.enum(['comma', 'space', 'plus']).default('comma'),
      /** Added to the authorize redirect (e.g. `{"access_type": "offline", "prompt": "consent"}` for a refresh token). */
      extraAuthorizeParams: ExtraAuthorizeParamsSchema.optional(),
      /** Added to every token request: code exchange, refresh, client credentials (e.g. `{"audience": "…"}`). */
      extraTokenParams: ExtraTokenParamsSchema.optional(),
    })
    // Refused here rather than at the first authorization, where the user (not the service's owner) would meet it.
    .refine((oauth2) => oauth2.grantType !== 'authorization_code' || oauth2.authorizeUrl !== undefined, { path: ['authorizeUrl'], message: 'is required for the authorization_code grant type' }),
  }),
]);
export type CreateServiceInput = z.infer<typeof CreateServiceInputSchema>;

/**
 * The fields a PATCH may carry. Which of them may change for which auth type is the decider's rule (seed 004's
 * table); fields that may never change (link name, auth type, grant type, scope delimiter) are accepted here only
 * so that the refusal can name them.
 */
export const EditServiceInputSchema = z.strictObject({
  name: DisplayNameSchema.optional(),
  baseUrl: UrlSchema.nullable().optional(),
  allowedHosts: z.array(HostSchema).max(20).optional(),
  /** null removes the verification call. */
  verify: VerifySchema.nullable().optional(),
  linkName: z.unknown().optional(),
  authType: z.unknown().optional(),
  apiKey: z.strictObject({ params: ApiKeyParamsSchema }).optional(),
  oauth1: z
    .strictObject({
      consumerKey: z.string().min(1).max(512).optional(),
      consumerSecret: SecretSchema.optional(),
      requestTokenUrl: UrlSchema.optional(),
      authorizeUrl: UrlSchema.optional(),
      accessTokenUrl: UrlSchema.optional(),
      paramType: ParamTypeSchema.optional(),
    })
    .optional(),
  oauth2: z
    .strictObject({
      grantType: z.unknown().optional(),
      scopeDelimiter: z.unknown().optional(),
      clientId: z.string().min(1).max(512).optional(),
      clientSecret: SecretSchema.optional(),
      authorizeUrl: UrlSchema.optional(),
      accessTokenUrl: UrlSchema.optional(),
      refreshTokenUrl: UrlSchema.optional(),
      revokeUrl: UrlSchema.optional(),
      paramType: z.enum(['query', 'header']).optional(),
      scopes: z.array(OAuth2ScopeSchema).max(100).optional(),
      /** Replaces the whole set ({} removes them all). */
      extraAuthorizeParams: ExtraAuthorizeParamsSchema.optional(),
      extraTokenParams: ExtraTokenParamsSchema.optional(),
    })
    .optional(),
});
export type EditServiceInput = z.infer<typeof EditServiceInputSchema>;

export const EditServiceRequestSchema = z.strictObject({ actor: ActorSchema, linkName: z.string().max(200), changes: EditServiceInputSchema });
export type EditServiceRequest = z.infer<typeof EditServiceRequestSchema>;

export const DeleteServiceRequestSchema = z.strictObject({ actor: ActorSchema, linkName: z.string().max(200) });
export type DeleteServiceRequest = z.infer<typeof DeleteServiceRequestSchema>;

export const ListServicesRequestSchema = z.strictObject({
  actor: ActorSchema,
  type: z.enum(['predefined', 'custom']).optional(),
  authType: AuthTypeSchema.optional(),
  /** A predefined service's category (`crm`, `accounting`…); custom services have none, so it lists predefined ones only. */
  category: z.string().regex(/^[a-z_]{1,40}$/, 'must be a category such as crm or accounting').optional(),
  /** Case-insensitive text in the name, link name or description. */
  q: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1, 'must be between 1 and 200').max(200, 'must be between 1 and 200').default(50),
  cursor: z.string().max(200).optional(),
});
export type ListServicesRequest = z.input<typeof ListServicesRequestSchema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const CreateServiceRequestSchema = z.strictObject({ actor: ActorSchema, service: CreateServiceInputSchema });
export type CreateServiceRequest = z.infer<typeof CreateServiceRequestSchema>;

export const GetServiceRequestSchema = z.strictObject({ actor: ActorSchema, linkName: z.string().max(200) });
export type GetServiceRequest = z.infer<typeof GetServiceRequestSchema>;

/** A secret as reads show it: never the value, only that one is set. */
export const MASKED_SECRET = '********';

/** A service as callers see it: secrets masked, only the block of its auth type. */
/** A redirect URI to register at the provider: under PLUGBOARD_PUBLIC_URL (region null) or a region's URL. */
export interface CallbackUrl {
  region: string | null;
  url: string;
}

export interface ServiceView {
  name: string;
  linkName: string;
  type: 'predefined' | 'custom';
  authType: AuthType;
  baseUrl: string | null;
  allowedHosts: string[];
  verify?: Verify;
  apiKey?: { params: ApiKeyParam[] };
  oauth1?: Partial<Extract<CreateServiceInput, { authType: 'oauth1' }>['oauth1']> & { signatureMethod?: string };
  oauth2?: Partial<Extract<CreateServiceInput, { authType: 'oauth2' }>['oauth2']> & { pkce?: boolean };
  owner: string | null;
  connectionCount: number;
  /**
   * OAuth 1.0a and authorization-code OAuth 2 services: the callback URLs to register at the provider, one per
   * configured region (a client-credentials service has no redirect).
   */
  callbackUrls?: CallbackUrl[];
  /** Predefined services only: what it is, where its docs are, and the values each connection fills in. */
  description?: string;
  docsUrl?: string;
  category?: string;
  /** `source`: the provider gives the value when the connection is authorized (token response field or callback parameter). */
  connectionParameters?: { name: string; displayName: string; pattern: string; example: string; source?: { from: 'token_response' | 'callback'; field: string; extract?: string; host?: boolean } }[];
  /** Predefined OAuth services, on a single read: which OAuth app the org's connections use (see ServiceClientView). */
  client?: ServiceClientView;
  createdAt: string | null;
  updatedAt: string | null;
}
