import { z } from 'zod';
// A scope and a verification call mean the same for a predefined and a custom service: one schema, in the contracts.
import { OAuth2ScopeSchema, VerifySchema } from '@plugboard/contracts';

/**
 * The predefined service catalog: third-party services Plugboard knows how to connect to out of the box.
 *
 * Values that differ per connection (a Shopify shop, a Zendesk subdomain, a Mailchimp data centre…) are written as
 * `{placeholder}`s and declared in `connectionParameters`, so that the catalog stays static data and the host a
 * credential may travel to is always pinned by a pattern.
 */

/** `{name}` in a URL, host or verify path. */
export const PLACEHOLDER_PATTERN = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** The placeholder names used in one templated string, in order of appearance, without duplicates. */
export function placeholdersIn(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER_PATTERN)].map((match) => match[1]))];
}

export const CATALOG_LINK_NAME_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;

export const CATEGORIES = [
  'accounting',
  'ai',
  'analytics',
  'cloud',
  'cms',
  'communication',
  'crm',
  'design',
  'developer',
  'ecommerce',
  'email',
  'esignature',
  'forms',
  'hr',
  'identity',
  'marketing',
  'media',
  'monitoring',
  'payments',
  'productivity',
  'project_management',
  'scheduling',
  'social',
  'storage',
  'support',
  'time_tracking',
] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

const DisplayName = z.string().trim().min(1, 'must not be empty').max(50, 'must be 50 characters or fewer');

/** Fills every placeholder with a harmless letter, to check that the rest of the template is a valid URL. */
function fillPlaceholders(template: string): string {
  return template.replace(PLACEHOLDER_PATTERN, 'x');
}

function parseHttpsUrl(candidate: string): URL | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && url.hostname !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** An https URL, without placeholders (documentation links). */
export const HttpsUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => !/\s/.test(value) && parseHttpsUrl(value) !== undefined, 'must be an https URL without credentials')
  .refine((value) => placeholdersIn(value).length === 0, 'must not contain {placeholders}');

/** An https URL that may hold `{placeholders}` anywhere in its host or path. */
export const TemplatedHttpsUrlSchema = z
  .string()
  .max(2048)
  .refine(
    (value) => !/\s/.test(value) && !/[{}]/.test(fillPlaceholders(value)) && parseHttpsUrl(fillPlaceholders(value)) !== undefined,
    'must be an https URL (placeholders written as {name}) without credentials',
  )
  .refine((value) => !value.includes('#'), 'must not contain a fragment');

/** The host of a templated URL, placeholders kept as written (lower-cased literal parts). */
export function templatedHost(template: string): string {
  const rest = template.replace(/^https:\/\//i, '');
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  return authority
    .replace(/:\d+$/, '')
    .split(/(\{[A-Za-z][A-Za-z0-9_]*\})/)
    .map((part, index) => (index % 2 === 1 ? part : part.toLowerCase()))
    .join('');
}

const HOST_LABEL = String.raw`(?:[a-z0-9-]|\{[A-Za-z][A-Za-z0-9_]*\})+`;
const HOST_PATTERN = new RegExp(String.raw`^(?:\*\.)?${HOST_LABEL}(?:\.${HOST_LABEL})+$`);

/**
 * A host credentials may be sent to: an exact name (`api.example.com`), a one-label wildcard (`*.example.com`) or a
 * template (`{shop}.myshopify.com`). A wildcard needs at least two labels after it, so `*.com` is refused.
 */
export const AllowedHostSchema = z
  .string()
  .max(253)
  .regex(HOST_PATTERN, 'must be a host such as api.example.com, *.example.com or {subdomain}.example.com')
  .refine((value) => !value.split('.').some((label) => label.startsWith('-') || label.endsWith('-')), 'no label may start or end with a dash')
  .refine((value) => !value.startsWith('*.') || value.split('.').length >= 3, 'a wildcard must cover a subdomain of a registrable domain, not a TLD');

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** A regular expression anchored with ^ and $ and holding exactly one capture group: the part of a field to keep. */
const ExtractPattern = z
  .string()
  .min(5)
  .max(500)
  .refine((value) => value.startsWith('^') && value.endsWith('$'), 'must be anchored with ^ and $')
  .refine(compiles, 'must be a valid regular expression')
  .refine((value) => !compiles(value) || new RegExp(`${value}|`).exec('')?.length === 2, 'must hold exactly one capture group (use (?:…) for the others)');

/**
 * Where the provider gives a parameter's value when an authorization completes: a field of the token response (a
 * dotted path into it: `instance_url`, `team.id`) or a parameter of the callback's query (QuickBooks' `realmId`).
 * `extract` keeps the part of the field its capture group matches (a host's first label, say); `host` says the value
 * is a host name, which must then be one of the entry's allowed hosts.
 */
export const ParameterSourceSchema = z.strictObject({
  from: z.enum(['token_response', 'callback']),
  field: z.string().max(100).regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a field name or a dotted path such as team.id'),
  extract: ExtractPattern.optional(),
  host: z.boolean().optional(),
});
export type ParameterSource = z.infer<typeof ParameterSourceSchema>;

/**
 * A value filled in per connection, substituted for `{name}` wherever it appears. With a `source`, the provider gives
 * it when the connection is authorized (OAuth 2 entries): the user need not (unless an OAuth URL uses it, when the
 * provider's value must then equal the user's), and it may be kept as data without being used in a template.
 */
export const ConnectionParameterSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][A-Za-z0-9]{0,49}$/, 'must be a camelCase identifier'),
    displayName: DisplayName,
    /** Anchored regular expression (as a string) every value must match. */
    pattern: z
      .string()
      .min(3)
      .max(500)
      .refine((value) => value.startsWith('^') && value.endsWith('$'), 'must be anchored with ^ and $')
      .refine(compiles, 'must be a valid regular expression'),
    example: z.string().min(1).max(200),
    source: ParameterSourceSchema.optional(),
  })
  .refine((param) => !compiles(param.pattern) || new RegExp(param.pattern).test(param.example), {
    message: 'example must match pattern',
    path: ['example'],
  });
export type ConnectionParameter = z.infer<typeof ConnectionParameterSchema>;

const ParamName = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'must hold only letters, digits, dots, dashes or underscores');
const ExtraParams = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'must be a parameter name'),
  z.string().min(1).max(500),
);

/** Parameters the OAuth client sets itself; a catalog entry must not override them. */
export const RESERVED_AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method'];
export const RESERVED_TOKEN_PARAMS = ['client_id', 'client_secret', 'grant_type', 'code', 'redirect_uri', 'refresh_token', 'code_verifier'];

export const OAuth2Schema = z
  .strictObject({
    grantType: z.enum(['authorization_code', 'client_credentials']),
    /** Where the user is sent to consent; only for authorization_code. */
    authorizeUrl: TemplatedHttpsUrlSchema.optional(),
    accessTokenUrl: TemplatedHttpsUrlSchema,
    /** Absent when the provider issues no refresh tokens. */
    refreshTokenUrl: TemplatedHttpsUrlSchema.optional(),
    /** Listed only where the provider has an RFC 7009-style endpoint (POST token=…). */
    revokeUrl: TemplatedHttpsUrlSchema.optional(),
    /** The default/suggested scopes. */
    scopes: z.array(OAuth2ScopeSchema).max(100),
    scopeDelimiter: z.enum(['comma', 'space', 'plus']),
    tokenEndpointAuth: z.enum(['client_secret_basic', 'client_secret_post']),
    extraAuthorizeParams: ExtraParams,
    /** Extra body parameters of every token request (e.g. Auth0's audience). */
    extraTokenParams: ExtraParams.optional(),
    pkce: z.boolean(),
    /** How the access token travels to the API. */
    paramType: z.enum(['header', 'query']),
    /** For paramType header: the header and prefix when they are not `Authorization: Bearer <token>`. */
    accessTokenHeader: z
      .strictObject({
        name: ParamName,
        prefix: z.string().max(50),
      })
      .optional(),
  })
  .superRefine((oauth2, ctx) => {
    if (oauth2.grantType === 'authorization_code' && !oauth2.authorizeUrl) {
      ctx.addIssue({ code: 'custom', path: ['authorizeUrl'], message: 'is required for the authorization_code grant' });
    }
    if (oauth2.grantType === 'client_credentials') {
      if (oauth2.authorizeUrl) ctx.addIssue({ code: 'custom', path: ['authorizeUrl'], message: 'must be absent for the client_credentials grant' });
      if (oauth2.pkce) ctx.addIssue({ code: 'custom', path: ['pkce'], message: 'does not apply to the client_credentials grant' });
      if (Object.keys(oauth2.extraAuthorizeParams).length > 0) {
        ctx.addIssue({ code: 'custom', path: ['extraAuthorizeParams'], message: 'must be empty for the client_credentials grant' });
      }
    }
    if (oauth2.accessTokenHeader && oauth2.paramType !== 'header') {
      ctx.addIssue({ code: 'custom', path: ['accessTokenHeader'], message: 'only applies when paramType is header' });
    }
    for (const key of Object.keys(oauth2.extraAuthorizeParams)) {
      if (RESERVED_AUTHORIZE_PARAMS.includes(key)) ctx.addIssue({ code: 'custom', path: ['extraAuthorizeParams', key], message: 'is set by the OAuth client itself' });
    }
    for (const key of Object.keys(oauth2.extraTokenParams ?? {})) {
      if (RESERVED_TOKEN_PARAMS.includes(key)) ctx.addIssue({ code: 'custom', path: ['extraTokenParams', key], message: 'is set by the OAuth client itself' });
    }
    const seen = new Set<string>();
    oauth2.scopes.forEach((scope, index) => {
      if (seen.has(scope.name)) ctx.addIssue({ code: 'custom', path: ['scopes', index, 'name'], message: `duplicate scope ${scope.name}` });
      seen.add(scope.name);
    });
  });
export type OAuth2Config = z.infer<typeof OAuth2Schema>;

export const OAuth1Schema = z.strictObject({
  requestTokenUrl: TemplatedHttpsUrlSchema,
  authorizeUrl: TemplatedHttpsUrlSchema,
  accessTokenUrl: TemplatedHttpsUrlSchema,
  signatureMethod: z.enum(['HMAC-SHA1', 'HMAC-SHA256', 'RSA-SHA1', 'PLAINTEXT']),
  /** Where the signed OAuth parameters travel on API calls. */
  paramType: z.enum(['header', 'query', 'form']),
  /** Provider-specific parameters of the authorize redirect (e.g. Trello's scope and expiration). */
  extraAuthorizeParams: ExtraParams.optional(),
});
export type OAuth1Config = z.infer<typeof OAuth1Schema>;

/**
 * One key the user pastes in. `name` is the real header or parameter name. `Authorization` itself is only allowed with
 * a `prefix` (bearer-style keys: `Bearer `, `Token token=`, …), so a raw secret is never sent as a bare Authorization value.
 */
export const ApiKeyParamSchema = z
  .strictObject({
    name: ParamName,
    displayName: DisplayName,
    paramType: z.enum(['header', 'query', 'form']),
    prefix: z.string().min(1).max(50).optional(),
  })
  .superRefine((param, ctx) => {
    if (param.name.toLowerCase() === 'authorization') {
      if (param.paramType !== 'header') ctx.addIssue({ code: 'custom', path: ['paramType'], message: 'Authorization is a header' });
      if (!param.prefix) {
        ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'Authorization needs a scheme prefix such as "Bearer "; otherwise use the provider\'s own header' });
      }
    }
    if (param.prefix !== undefined && param.paramType !== 'header') {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'only applies to headers' });
    }
  });
export type ApiKeyParam = z.infer<typeof ApiKeyParamSchema>;

export const ApiKeySchema = z
  .strictObject({ params: z.array(ApiKeyParamSchema).min(1).max(10) })
  .refine((apiKey) => new Set(apiKey.params.map((p) => `${p.paramType}:${p.name.toLowerCase()}`)).size === apiKey.params.length, {
    message: 'parameter names must be unique',
    path: ['params'],
  });

export const BasicSchema = z.strictObject({
  usernameLabel: DisplayName,
  passwordLabel: DisplayName,
});

const common = {
  linkName: z.string().regex(CATALOG_LINK_NAME_PATTERN, 'must start with a lowercase letter and hold only lowercase letters, digits and underscores, 50 characters at most'),
  name: DisplayName,
  /** One sentence. */
  description: z
    .string()
    .min(10)
    .max(300)
    .refine((value) => value.trim() === value && !/[\r\n]/.test(value), 'must be one line without surrounding spaces')
    .refine((value) => value.endsWith('.'), 'must be a sentence ending with a full stop'),
  docsUrl: HttpsUrlSchema,
  category: CategorySchema,
  baseUrl: TemplatedHttpsUrlSchema,
  allowedHosts: z.array(AllowedHostSchema).min(1).max(20),
  connectionParameters: z.array(ConnectionParameterSchema).max(10).optional(),
  verify: VerifySchema.optional(),
};

const EntryUnion = z.discriminatedUnion('authType', [
  z.strictObject({ ...common, authType: z.literal('api_key'), apiKey: ApiKeySchema }),
  z.strictObject({ ...common, authType: z.literal('basic'), basic: BasicSchema }),
  z.strictObject({ ...common, authType: z.literal('oauth1'), oauth1: OAuth1Schema }),
  z.strictObject({ ...common, authType: z.literal('oauth2'), oauth2: OAuth2Schema }),
]);

/** Every templated string of an entry (URLs, hosts, verify path, extra parameters), with where it sits. */
export function templatedStrings(entry: z.infer<typeof EntryUnion>): { path: (string | number)[]; value: string }[] {
  const out: { path: (string | number)[]; value: string }[] = [{ path: ['baseUrl'], value: entry.baseUrl }];
  entry.allowedHosts.forEach((value, index) => out.push({ path: ['allowedHosts', index], value }));
  if (entry.verify) out.push({ path: ['verify', 'path'], value: entry.verify.path });
  const block: Record<string, unknown> | undefined =
    entry.authType === 'oauth2' ? entry.oauth2 : entry.authType === 'oauth1' ? entry.oauth1 : undefined;
  if (block) {
    for (const key of ['authorizeUrl', 'accessTokenUrl', 'refreshTokenUrl', 'revokeUrl', 'requestTokenUrl']) {
      if (typeof block[key] === 'string') out.push({ path: [entry.authType, key], value: block[key] as string });
    }
    for (const key of ['extraAuthorizeParams', 'extraTokenParams']) {
      const params = block[key] as Record<string, string> | undefined;
      for (const [name, value] of Object.entries(params ?? {})) out.push({ path: [entry.authType, key, name], value });
    }
  }
  return out;
}

/** Converts an allowedHosts entry to a matcher over templated hosts; `*` stands for exactly one label. */
function hostPatternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .toLowerCase()
    .split('.')
    .map((label) => (label === '*' ? '[^.]+' : label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('\\.');
  return new RegExp(`^${escaped}$`);
}

/** Whether a host (literal, or templated as in baseUrl) is covered by one of the allowed host patterns. */
export function hostIsAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const candidate = host.toLowerCase();
  return allowedHosts.some((pattern) => hostPatternToRegExp(pattern).test(candidate));
}

export const CatalogEntrySchema = EntryUnion.superRefine((entry, ctx) => {
  const declared = new Map<string, ConnectionParameter>();
  (entry.connectionParameters ?? []).forEach((param, index) => {
    if (declared.has(param.name)) ctx.addIssue({ code: 'custom', path: ['connectionParameters', index, 'name'], message: `duplicate parameter ${param.name}` });
    declared.set(param.name, param);
  });
  const used = new Set<string>();
  for (const { path, value } of templatedStrings(entry)) {
    for (const name of placeholdersIn(value)) {
      used.add(name);
      if (!declared.has(name)) ctx.addIssue({ code: 'custom', path, message: `{${name}} is not declared in connectionParameters` });
    }
  }
  (entry.connectionParameters ?? []).forEach((param, index) => {
    // A value the provider gives may be kept as data only (Slack's team, Zoho's API domain).
    if (!used.has(param.name) && !param.source) ctx.addIssue({ code: 'custom', path: ['connectionParameters', index], message: `${param.name} is declared but never used` });
    if (param.source && entry.authType !== 'oauth2') ctx.addIssue({ code: 'custom', path: ['connectionParameters', index, 'source'], message: 'only OAuth 2 authorizations give parameter values' });
  });
  if (!hostIsAllowed(templatedHost(entry.baseUrl), entry.allowedHosts)) {
    ctx.addIssue({ code: 'custom', path: ['allowedHosts'], message: `must cover the host of baseUrl (${templatedHost(entry.baseUrl)})` });
  }
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;
export type AuthType = CatalogEntry['authType'];

export const CatalogSchema = z.array(CatalogEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.linkName)) ctx.addIssue({ code: 'custom', path: [index, 'linkName'], message: `duplicate linkName ${entry.linkName}` });
    seen.add(entry.linkName);
  });
});
export type Catalog = z.infer<typeof CatalogSchema>;

/**
 * Substitutes connection parameter values into a template, after checking each against its declared pattern.
 * Throws when a value is missing or does not match, so a crafted value can never move a request to another host.
 */
export function fillTemplate(template: string, parameters: readonly ConnectionParameter[], values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    const param = parameters.find((p) => p.name === name);
    if (!param) throw new Error(`{${name}} is not a declared connection parameter`);
    const value = values[name];
    if (value === undefined) throw new Error(`connection parameter ${name} is missing`);
    if (!new RegExp(param.pattern).test(value)) throw new Error(`connection parameter ${name} does not match ${param.pattern}`);
    return value;
  });
}

/** What an OAuth 2 authorization brought back: the token response without its tokens, and the callback's query. */
export interface AuthorizationData {
  tokenResponse: Readonly<Record<string, unknown>>;
  callback: Readonly<Record<string, string>>;
}

/** A parameter with a source must be given when the connection is created if an OAuth URL needs it before then. */
export function neededBeforeAuthorization(entry: CatalogEntry, parameter: ConnectionParameter): boolean {
  if (!parameter.source) return true;
  const block: Record<string, unknown> = entry.authType === 'oauth2' ? entry.oauth2 : {};
  return ['authorizeUrl', 'accessTokenUrl', 'refreshTokenUrl', 'revokeUrl'].some((key) => typeof block[key] === 'string' && placeholdersIn(block[key] as string).includes(parameter.name));
}

function fieldAt(data: Readonly<Record<string, unknown>>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined), data);
}

/**
 * The parameter values an authorization gave, as the entry's `source`s declare them, each checked before use: it
 * must match its parameter's pattern, equal the value the connection already has (a Salesforce instance, a Shopify
 * shop), be an allowed host when it is a host, and keep the filled base URL on the allowed hosts. Throws with a
 * sentence (naming the parameter, never a token) when one does not; a missing value is an error only when a template
 * needs it.
 */
export function parametersFromAuthorization(entry: CatalogEntry, data: AuthorizationData, given: Readonly<Record<string, string>>): Record<string, string> {
  const parameters = entry.connectionParameters ?? [];
  const learned: Record<string, string> = {};
  for (const parameter of parameters) {
    const { source } = parameter;
    if (!source) continue;
    const raw = source.from === 'token_response' ? fieldAt(data.tokenResponse, source.field) : data.callback[source.field];
    const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined;
    if (text === undefined) {
      const needed = templatedStrings(entry).some(({ value }) => placeholdersIn(value).includes(parameter.name));
      if (needed && given[parameter.name] === undefined) throw new Error(`the provider did not give ${parameter.displayName} (${source.field})`);
      continue;
    }
    const value = source.extract ? new RegExp(source.extract).exec(text)?.[1] : text;
    if (value === undefined || !new RegExp(parameter.pattern).test(value)) throw new Error(`the provider gave a ${parameter.displayName} (${source.field}) this service does not accept`);
    if (given[parameter.name] !== undefined && given[parameter.name] !== value) {
      throw new Error(`the provider answered for another ${parameter.displayName} than the connection's (${given[parameter.name]})`);
    }
    learned[parameter.name] = value;
  }
  const values = { ...given, ...learned };
  const filledHosts = entry.allowedHosts.filter((pattern) => placeholdersIn(pattern).every((name) => values[name] !== undefined)).map((pattern) => fillTemplate(pattern, parameters, values));
  for (const [name, value] of Object.entries(learned)) {
    const parameter = parameters.find((p) => p.name === name);
    if (parameter?.source?.host && !hostIsAllowed(value, filledHosts)) throw new Error(`the provider gave a ${parameter.displayName} outside this service's hosts`);
  }
  if (placeholdersIn(entry.baseUrl).every((name) => values[name] !== undefined)) {
    const base = new URL(fillTemplate(entry.baseUrl, parameters, values));
    if (!hostIsAllowed(base.hostname, filledHosts)) throw new Error(`the provider's values would move this service off its hosts (${base.hostname})`);
  }
  return learned;
}
