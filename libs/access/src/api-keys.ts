import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { OrgIdSchema, RoleSchema, UserIdSchema, type ApiKeyView, type Role } from '@plugboard/contracts';

/** Who a valid key speaks for. */
export interface Principal {
  orgId: string;
  role: Role;
  keyId: string;
  /** A person's key: the user it always acts as. Null for a product's key, which names its user per request. */
  user: string | null;
}

/** What a key is bound to: a person (acts as that user only) or a product (acts for any user it names). */
export type KeySubject = { user: string } | { actAs: 'any' };

export interface CreatedKey extends Principal {
  /** The key itself: shown to its owner once, never stored. */
  key: string;
  /** The key as lists show it. */
  view: ApiKeyView;
}

const KEY_PREFIX = 'pb_';

/** How long a process that authenticates callers remembers a verified key: a revoked key stops working within it. */
export const VERIFIED_KEY_CACHE_MS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VIEW_COLUMNS = 'id, role, user_id, prefix, label, created_at, revoked_at';

function toView(row: { id: string; role: Role; user_id: string | null; prefix: string; label: string | null; created_at: Date; revoked_at: Date | null }): ApiKeyView {
  return { id: row.id, role: row.role, user: row.user_id, actAs: row.user_id === null ? 'any' : null, prefix: row.prefix, label: row.label, createdAt: row.created_at.toISOString(), revokedAt: row.revoked_at?.toISOString() ?? null };
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Org-scoped API keys. Keys carry 256 random bits, so a plain SHA-256 is enough to store them: there is nothing
 * to guess, unlike a password, and a lookup by hash keeps authentication to one indexed read.
 */
export class ApiKeys {
  /** Verified keys, by hash, for a few seconds: authentication runs on every request, and keys rarely change. */
  private readonly recent = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cacheMs = 0,
  ) {}

  async create(orgId: string, role: Role, subject: KeySubject, label?: string): Promise<CreatedKey> {
    OrgIdSchema.parse(orgId);
    RoleSchema.parse(role);
    const user = 'user' in subject ? UserIdSchema.parse(subject.user) : null;
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const keyId = randomUUID();
    const [row] = await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO orgs (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [orgId]);
      return manager.query(
        `INSERT INTO api_keys (id, org_id, role, user_id, act_as_any, key_hash, prefix, label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${VIEW_COLUMNS}`,
        [keyId, orgId, role, user, user === null, hashKey(key), key.slice(0, KEY_PREFIX.length + 6), label ?? null],
      );
    });
    return { key, orgId, role, keyId, user, view: toView(row) };
  }

  /** The principal of a key, or null when it is unknown or revoked. */
  async verify(key: string): Promise<Principal | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 100) return null;
    const hash = hashKey(key);
    const cached = this.recent.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const [row] = await this.dataSource.query(`SELECT id, org_id, role, user_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [hash]);
    const principal: Principal | null = row ? { keyId: row.id, orgId: row.org_id, role: row.role, user: row.user_id } : null;
    if (this.cacheMs > 0) {
      if (this.recent.size > 10_000) this.recent.clear();
      this.recent.set(hash, { principal, until: Date.now() + this.cacheMs });
    }
    return principal;
  }

  /** The org's keys, newest first, revoked ones included; never a key or its hash. */
  async list(orgId: string): Promise<ApiKeyView[]> {
    const rows = await this.dataSource.query(`SELECT ${VIEW_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId]);
    return rows.map(toView);
  }

  /**
   * Revokes a key of the org (a key of another org, or an unknown id, is null: not found). Revoking twice keeps the
   * first time. Other gateways may still accept the key for as long as they cache verified keys.
   */
  async revoke(orgId: string, keyId: string): Promise<ApiKeyView | null> {
    if (!UUID.test(keyId)) return null;
    const [rows] = await this.dataSource.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND org_id = $2 RETURNING ${VIEW_COLUMNS}, key_hash`,
      [keyId, orgId],
    );
    const row = rows[0];
    if (!row) return null;
    this.recent.delete(row.key_hash);
    return toView(row);
  }

  async hasKeys(orgId: string): Promise<boolean> {
    const [row] = await this.dataSource.query(`SELECT EXISTS (SELECT 1 FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL) AS present`, [orgId]);
    return row.present;
  }
}

/** Roles in increasing power: a route that asks for `member` also lets `admin` in. */
export function roleAllows(held: Role, needed: Role): boolean {
  const rank: Record<Role, number> = { read_only: 0, member: 1, admin: 2 };
  return rank[held] >= rank[needed];
}
