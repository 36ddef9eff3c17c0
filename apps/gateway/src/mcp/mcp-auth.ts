import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { actingUser, ApiKeys, authenticate } from '@plugboard/access';
import { DomainError, ErrorCodes, OrgIdSchema, RoleSchema, UserIdSchema } from '@plugboard/contracts';
import type { EgressPolicy } from '@plugboard/outbound';
import type { OperatorOidc } from '@plugboard/runtime';
import type { McpCaller } from './mcp-tools';

/** API keys all start so; anything else in a bearer header is taken for the identity provider's access token. */
const API_KEY_PREFIX = 'pb_';
/** How long an access token the provider vouched for is trusted without asking again: about the key cache's time. */
const TOKEN_CACHE_MS = 30_000;
const TOKEN_CACHE_MAX = 10_000;

/**
 * Who calls `/mcp`. Two kinds of bearer:
 * - an API key, exactly as the REST routes take it (`authenticate`: a person's key acts as its user; a product's key
 *   names the user with X-User-Id);
 * - an access token of the org's OpenID Connect provider (the MCP authorization spec's flow, when the provider is
 *   configured): the provider's userinfo says who it is (sub) and, in the org and role claims, for which org and role.
 * Cookies are never read: a browser's console session must not be usable from a page that posts to /mcp.
 */
export class McpAuthenticator {
  private readonly recent = new Map<string, { caller: McpCaller; until: number }>();

  constructor(
    private readonly apiKeys: ApiKeys,
    /** The MCP endpoint's own URL: a JWT access token must name it in `aud`. */
    private readonly resource: string,
    private readonly oidc: { settings: OperatorOidc; egress: EgressPolicy } | null,
  ) {}

  /** The caller, or a DomainError: `unauthenticated` (answered 401 with the resource metadata), `forbidden`, `user_mismatch`… */
  async caller(headers: IncomingHttpHeaders): Promise<McpCaller> {
    const token = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (!token) throw new DomainError(ErrorCodes.unauthenticated, 'Send an API key, or sign in with your organization’s identity provider, as "Authorization: Bearer <token>".');
    if (token.startsWith(API_KEY_PREFIX) || !this.oidc) {
      const { principal, actor } = await authenticate(this.apiKeys, headers, 'read_only');
      return { actor, role: principal.role };
    }
    return this.fromProvider(token, headers);
  }

  private async fromProvider(token: string, headers: IncomingHttpHeaders): Promise<McpCaller> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.recent.get(key);
    const caller = cached && cached.until > Date.now() ? cached.caller : await this.askProvider(token);
    if (!cached || cached.until <= Date.now()) {
      if (this.recent.size >= TOKEN_CACHE_MAX) this.recent.clear();
      this.recent.set(key, { caller, until: Date.now() + TOKEN_CACHE_MS });
    }
    // A person signed in acts as themselves only, as a person's key does: another X-User-Id is user_mismatch.
    actingUser(caller.actor.userId, headers['x-user-id'], caller.actor.userId);
    return caller;
  }

  private async askProvider(token: string): Promise<McpCaller> {
    const { settings, egress } = this.oidc as NonNullable<McpAuthenticator['oidc']>;
    const audience = jwtAudience(token);
    // A JWT issued for another resource is someone else's token (RFC 8707); an opaque token's audience only its
    // provider knows, and userinfo answers only for tokens it issued.
    if (audience && !audience.includes(this.resource)) throw new DomainError(ErrorCodes.unauthenticated, 'This access token was not issued for Plugboard’s MCP endpoint: sign in again.');
    let claims: Record<string, unknown>;
    try {
      const response = await egress.fetch(settings.userinfoUrl, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(egress.timeouts.signInMs) });
      if (!response.ok) throw new Error(`userinfo answered ${response.status}`);
      claims = (await response.json()) as Record<string, unknown>;
    } catch {
      throw new DomainError(ErrorCodes.unauthenticated, 'Your identity provider did not accept this access token (expired, revoked, or not its own): sign in again.');
    }
    // The claim the console's sign-in reads the user from (PLUGBOARD_OPERATOR_OIDC.userClaim, `sub` by default), so a
    // person is the same user in the console and to their agent.
    const user = UserIdSchema.safeParse(claims[(settings as OperatorOidc & { userClaim?: string }).userClaim ?? 'sub']);
    const org = OrgIdSchema.safeParse(claims[settings.orgClaim]);
    const role = RoleSchema.safeParse(claims[settings.roleClaim]);
    if (!user.success) throw new DomainError(ErrorCodes.forbidden, 'Your identity provider names you with a subject Plugboard cannot use as a user id (1–128 letters, digits or . _ @ + -).');
    if (!org.success || (settings.orgs && !settings.orgs.includes(org.data))) {
      throw new DomainError(ErrorCodes.forbidden, `Your account does not name a Plugboard organization you may sign in to (claim ${settings.orgClaim}). Ask your administrator.`);
    }
    if (!role.success) throw new DomainError(ErrorCodes.forbidden, `Your account has no Plugboard role (claim ${settings.roleClaim}: admin, member or read_only). Ask your administrator.`);
    return { actor: { orgId: org.data, userId: user.data }, role: role.data };
  }
}

/** The `aud` of a JWT (read, not verified: the provider's userinfo does that), or null for an opaque token. */
function jwtAudience(token: string): string[] | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { aud?: unknown };
    if (typeof payload.aud === 'string') return [payload.aud];
    if (Array.isArray(payload.aud)) return payload.aud.filter((value): value is string => typeof value === 'string');
    return null;
  } catch {
    return null;
  }
}
