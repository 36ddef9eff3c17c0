import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { OrgIdSchema, RoleSchema, type Role } from '@plugboard/contracts';

/** Who a valid key speaks for. */
export interface Principal {
  orgId: string;
  role: Role;
  keyId: string;
}

export interface CreatedKey extends Principal {
  /** The key itself: shown to its owner once, never stored. */
  key: string;
}

const KEY_PREFIX = 'pb_';

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

  async create(orgId: string, role: Role, label?: string): Promise<CreatedKey> {
    OrgIdSchema.parse(orgId);
    RoleSchema.parse(role);
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const keyId = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO orgs (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [orgId]);
      await manager.query(`INSERT INTO api_keys (id, org_id, role, key_hash, prefix, label) VALUES ($1, $2, $3, $4, $5, $6)`, [
        keyId,
        orgId,
        role,
        hashKey(key),
        key.slice(0, KEY_PREFIX.length + 6),
        label ?? null,
      ]);
    });
    return { key, orgId, role, keyId };
  }

  /** The principal of a key, or null when it is unknown or revoked. */
  async verify(key: string): Promise<Principal | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 100) return null;
    const hash = hashKey(key);
    const cached = this.recent.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const [row] = await this.dataSource.query(`SELECT id, org_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [hash]);
    const principal: Principal | null = row ? { keyId: row.id, orgId: row.org_id, role: row.role } : null;
    if (this.cacheMs > 0) {
      if (this.recent.size > 10_000) this.recent.clear();
      this.recent.set(hash, { principal, until: Date.now() + this.cacheMs });
    }
    return principal;
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
