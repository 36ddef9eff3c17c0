import { z } from 'zod';
import { DEFAULT_NAMESPACE, OrgIdSchema } from '@plugboard/contracts';

const REGION_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * `eu=https://eu.example.com,in=https://in.example.com` → `{eu: 'https://eu.example.com', in: …}` (trailing slashes
 * dropped), or the problem with it, named without echoing the value.
 */
export function parseRegionUrls(value: string): { regions: Record<string, string> } | { problem: string } {
  const regions: Record<string, string> = {};
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const name = entry.slice(0, at).trim();
    const url = entry.slice(at + 1).trim();
    if (at < 1 || !REGION_NAME.test(name)) return { problem: 'must be a list of region=url, each region a lower-case name such as eu' };
    if (name in regions) return { problem: `names the region ${name} twice` };
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return { problem: `must give an http(s) URL for the region ${name}` };
    regions[name] = url.replace(/\/$/, '');
  }
  return { regions };
}

/**
 * `https://app.example.com,http://localhost:4200` → the origins as URL.origin spells them, or the problem with it.
 * Each entry must be an origin only: a path, a query, a fragment or a user name would suggest a narrower rule than
 * the origin check that is applied.
 */
export function parseOrigins(value: string): { origins: string[] } | { problem: string } {
  const origins: string[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const url = URL.canParse(entry) ? new URL(entry) : null;
    if (!url || !/^https?:$/.test(url.protocol)) return { problem: 'must be a list of http(s) origins such as https://app.example.com' };
    if (url.username || url.password || url.search || url.hash || url.pathname !== '/' || /[?#@]/.test(entry)) {
      return { problem: `must list origins only (scheme, host and port), with no path, query or user: ${url.origin} is fine` };
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { origins };
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * The identity provider operators sign in to the dashboard with (OAuth 2 authorization code with PKCE, then its
 * userinfo endpoint). The org and the role come from the claims it returns; `orgs`, when given, lists the only orgs
 * it may sign operators into.
 */
export const OperatorOidcSchema = z.strictObject({
  authorizeUrl: httpUrl,
  tokenUrl: httpUrl,
  userinfoUrl: httpUrl,
  clientId: z.string().min(1, 'must not be empty'),
  clientSecret: z.string().min(1, 'must not be empty'),
  scope: z.string().min(1).default('openid profile'),
  orgClaim: z.string().min(1).default('plugboard_org'),
  roleClaim: z.string().min(1).default('plugboard_role'),
  /** The claim that holds the person's Plugboard user id (letters, digits, . _ @ + -): `sub` unless said otherwise. */
  userClaim: z.string().min(1).default('sub'),
  orgs: z.array(OrgIdSchema).min(1, 'must name at least one org').optional(),
  /**
   * The provider's issuer (where its `/.well-known/openid-configuration` is). MCP clients are sent to it to sign in
   * (the `/mcp` route's protected-resource metadata); without it they use API keys only.
   */
  issuer: httpUrl.optional(),
});
export type OperatorOidc = z.infer<typeof OperatorOidcSchema>;

const ConfigSchema = z.object({
  // 0 lets the system pick a free port (tests use it).
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0, 'must be a port number').max(65535, 'must be a port number').default(3000),
  DATABASE_URL: z.string({ error: 'is required: a postgres://user@host:port/database URL' }).regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres://user@host:port/database URL'),
  NATS_URL: z.string().regex(/^(nats|tls|ws|wss):\/\/.+/, 'must be a nats://host:port URL').optional(),
  /** The app's own NATS user and password (deploy/ runs NATS with one user per app); kept out of NATS_URL and logs. */
  NATS_USER: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, dashes or underscores').optional(),
  NATS_PASSWORD: z.string().min(1).refine((value) => !value.startsWith('REPLACE_ME'), 'is still the placeholder of deploy/kubernetes/secret.yaml').optional(),
  PLUGBOARD_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, dashes or underscores').default(DEFAULT_NAMESPACE),
  PLUGBOARD_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL at which callers reach the gateway' }).optional(),
  /** Public URLs of the gateway per region, for OAuth callbacks (`eu=https://eu.example.com,…`); parsed to a record. */
  PLUGBOARD_REGION_URLS: z
    .string()
    .transform((value, ctx) => {
      const parsed = parseRegionUrls(value);
      if ('problem' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      }
      return parsed.regions;
    })
    .optional(),
  /** Origins an OAuth authorization may send the browser back to (`returnUrl`), besides PLUGBOARD_PUBLIC_URL's own. */
  PLUGBOARD_RETURN_URL_ORIGINS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parseOrigins(value);
      if ('problem' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      }
      return parsed.origins;
    }),
  /** Hosts or addresses every outgoing call may reach despite being private or plain http (tests: 127.0.0.1). */
  PLUGBOARD_INVOKE_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((host) => host.trim()).filter(Boolean)),
  PLUGBOARD_INVOKE_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100 (ms)').max(300_000, 'must be at most 300000 (ms)').default(30_000),
  /** Retries of idempotent calls after a 429 or 502/503/504: off unless set. */
  PLUGBOARD_INVOKE_RETRIES: z.coerce.number().int().min(0).max(5, 'must be at most 5').default(0),
  PLUGBOARD_INVOKE_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  PLUGBOARD_INVOKE_RETRY_MAX_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
  PLUGBOARD_PROXY_MAX_BYTES: z.coerce.number().int().min(1024, 'must be at least 1024 (bytes)').default(100 * 1024 * 1024),
  /** Where the gateway forwards /v1/proxy in distributed mode: the invoke-proxy app's HTTP listener. */
  PLUGBOARD_INVOKE_PROXY_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the invoke-proxy app' }).optional(),
  /** Webhook deliveries: first retry delay (doubling per attempt, honouring Retry-After) up to the cap, then give up. */
  PLUGBOARD_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10, 'must be at least 10 (ms)').max(3_600_000, 'must be at most 3600000 (ms)').default(30_000),
  PLUGBOARD_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10, 'must be at least 10 (ms)').max(86_400_000, 'must be at most 86400000 (ms, a day)').default(86_400_000),
  PLUGBOARD_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100 (ms)').max(60_000, 'must be at most 60000 (ms)').default(10_000),
  /** How often each connection replica looks for deliveries that are due. */
  PLUGBOARD_WEBHOOK_POLL_MS: z.coerce.number().int().min(10, 'must be at least 10 (ms)').max(60_000, 'must be at most 60000 (ms)').default(500),
  PLUGBOARD_MASTER_KEY: z
    .string()
    .regex(/^([A-Za-z0-9_-]{1,32}:)?[A-Za-z0-9+/]{43}=(\s*,\s*([A-Za-z0-9_-]{1,32}:)?[A-Za-z0-9+/]{43}=)*$/, 'must be a base64 key of 32 bytes (openssl rand -base64 32), or a list id:key,… with the current key first')
    .optional(),
  /** OAuth clients of predefined services, registered by whoever runs Plugboard: {"github": {"clientId", "clientSecret"}}. */
  PLUGBOARD_PREDEFINED_CLIENTS: z
    .string()
    .refine((value) => {
      try {
        const parsed = JSON.parse(value);
        return typeof parsed === 'object' && parsed !== null && Object.values(parsed).every((c) => typeof (c as { clientId?: unknown }).clientId === 'string' && typeof (c as { clientSecret?: unknown }).clientSecret === 'string');
      } catch {
        return false;
      }
    }, 'must be JSON: {"<service link name>": {"clientId": "…", "clientSecret": "…"}}')
    .optional(),
  /** Operator sign-in to /dashboard (JSON, see OperatorOidcSchema); without it the dashboard takes API keys only. */
  PLUGBOARD_OPERATOR_OIDC: z
    .string()
    .transform((value, ctx) => {
      let json: unknown;
      try {
        json = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON: {"authorizeUrl", "tokenUrl", "userinfoUrl", "clientId", "clientSecret", "scope"?, "orgClaim"?, "roleClaim"?, "orgs"?, "issuer"?}' });
        return z.NEVER;
      }
      const parsed = OperatorOidcSchema.safeParse(json);
      // Field names and rules only: the value holds a client secret.
      for (const issue of parsed.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(top level)'} ${issue.code === 'unrecognized_keys' ? 'has unknown fields' : issue.message}` });
      return parsed.success ? parsed.data : z.NEVER;
    })
    .optional(),
  /** Signs the dashboard's session cookie; derived from the master key when unset. */
  PLUGBOARD_DASHBOARD_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Distributed mode: apply the app's migrations at start (simple setups); otherwise wait for `npm run migrate`. */
  PLUGBOARD_MIGRATE_ON_START: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  /** Distributed mode: serve /health/live and /health/ready on this port, for orchestrators' probes. Off when unset. */
  HEALTH_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0, 'must be a port number').max(65535, 'must be a port number').optional(),
  /** The gateway's gRPC listener (libs/contracts/proto/plugboard.proto), embedded mode included. Off when unset. */
  GRPC_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1, 'must be a port number').max(65535, 'must be a port number').optional(),
  /** How long a stopping app may take to finish its work in flight before it exits anyway. */
  PLUGBOARD_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100, 'must be at least 100 (ms)').max(600_000, 'must be at most 600000 (ms)').default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type PlatformConfig = z.infer<typeof ConfigSchema>;
export type RequiredVariable = 'NATS_URL' | 'PLUGBOARD_MASTER_KEY';

/** A configuration that cannot start a process; its message names every offending variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Plugboard cannot start, its configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and checks the environment once, at start. Unknown variables are ignored; a missing or malformed one stops
 * the process with a message that names it. Values are never echoed, since some are secrets.
 */
export function loadConfig(env: NodeJS.ProcessEnv, required: RequiredVariable[] = []): PlatformConfig {
  const result = ConfigSchema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  for (const name of required) if (!env[name]) problems.push(`${name} is required in distributed mode`);
  if (env.PLUGBOARD_OPERATOR_OIDC && !env.PLUGBOARD_DASHBOARD_SESSION_SECRET && !env.PLUGBOARD_MASTER_KEY) {
    problems.push('PLUGBOARD_DASHBOARD_SESSION_SECRET (or PLUGBOARD_MASTER_KEY) is required with PLUGBOARD_OPERATOR_OIDC: it signs the session cookie');
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** Where callers reach the gateway, without a trailing slash: PLUGBOARD_PUBLIC_URL, or localhost on PORT. */
export function publicUrlOf(config: PlatformConfig): string {
  return (config.PLUGBOARD_PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
}
