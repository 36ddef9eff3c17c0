import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { OrgIdSchema, RoleSchema, SIGN_IN_LINK_TTL_MS, UserIdSchema, type Role } from '@plugboard/contracts';

/** The person a sign-in link signs a browser in as. */
export interface SignInPerson {
  orgId: string;
  userId: string;
  role: Role;
}

const TOKEN_PREFIX = 'st_';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * One-time sign-in links (embedded mode's way into the console, like a notebook server's token URL). A token holds
 * 256 random bits and is stored as its SHA-256 only; redeeming it is one conditional UPDATE, so two browsers racing
 * with the same link cannot both get in.
 */
export class SignInLinks {
  constructor(private readonly dataSource: DataSource) {}

  /** A new token for the person, usable once within `ttlMs`. Creates the org if needed, as keys do. */
  async create(person: SignInPerson, ttlMs = SIGN_IN_LINK_TTL_MS): Promise<{ token: string; expiresAt: Date }> {
    OrgIdSchema.parse(person.orgId);
    UserIdSchema.parse(person.userId);
    RoleSchema.parse(person.role);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + ttlMs);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO orgs (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [person.orgId]);
      // Old links are of no use to anyone: they go as new ones come.
      await manager.query(`DELETE FROM sign_in_links WHERE expires_at < now() - interval '1 day'`);
      await manager.query(`INSERT INTO sign_in_links (token_hash, org_id, user_id, role, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
        hashToken(token),
        person.orgId,
        person.userId,
        person.role,
        expiresAt,
      ]);
    });
    return { token, expiresAt };
  }

  /** The person of an unused, unexpired token, which is used up by this call; null for any other token. */
  async redeem(token: string): Promise<SignInPerson | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const [rows] = await this.dataSource.query(
      `UPDATE sign_in_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING org_id, user_id, role`,
      [hashToken(token)],
    );
    const row = rows[0];
    return row ? { orgId: row.org_id, userId: row.user_id, role: row.role } : null;
  }
}
