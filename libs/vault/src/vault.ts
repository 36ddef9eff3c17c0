import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Keyring } from './keyring';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM; the output is iv ‖ tag ‖ ciphertext. `aad` binds it to its row so rows cannot be swapped. */
function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export interface VaultEntryInput {
  id: string;
  orgId: string;
  /** What the secret is for, e.g. `service.clientSecret`; never the secret itself. */
  purpose: string;
  value: unknown;
}

/**
 * The only place secrets are stored. Envelope encryption: each entry has its own data key, sealed by the current
 * master key, whose id is recorded so the master key can rotate. Writes take the caller's transaction, so a secret
 * and the event that names it commit together.
 */
export class Vault {
  constructor(private readonly keyring: Keyring) {}

  async put(manager: EntityManager, entry: VaultEntryInput): Promise<void> {
    const master = this.keyring.current;
    const dataKey = randomBytes(32);
    const aad = Buffer.from(`${entry.id}:${entry.orgId}`);
    const ciphertext = seal(dataKey, Buffer.from(JSON.stringify(entry.value)), aad);
    const wrappedKey = seal(master.key, dataKey, aad);
    await manager.query(
      `INSERT INTO vault_entries (id, org_id, purpose, key_id, wrapped_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET key_id = $4, wrapped_key = $5, ciphertext = $6, version = vault_entries.version + 1, updated_at = now()
       WHERE vault_entries.org_id = $2`,
      [entry.id, entry.orgId, entry.purpose, master.id, wrappedKey, ciphertext],
    );
  }

  /** The decrypted value, or null when there is no such entry in that org. */
  async get<T>(manager: EntityManager, id: string, orgId: string): Promise<T | null> {
    const [row] = await manager.query(`SELECT key_id, wrapped_key, ciphertext FROM vault_entries WHERE id = $1 AND org_id = $2`, [id, orgId]);
    if (!row) return null;
    const master = this.keyring.byId(row.key_id);
    if (!master) throw new Error(`vault entry ${id} is sealed with master key ${row.key_id}, which is not configured`);
    const aad = Buffer.from(`${id}:${orgId}`);
    const dataKey = open(master.key, row.wrapped_key, aad);
    return JSON.parse(open(dataKey, row.ciphertext, aad).toString()) as T;
  }

  /** The decrypted value and its version (for a later compare-and-swap), or null. */
  async getVersioned<T>(manager: EntityManager, id: string, orgId: string): Promise<{ value: T; version: number } | null> {
    const [row] = await manager.query(`SELECT version FROM vault_entries WHERE id = $1 AND org_id = $2`, [id, orgId]);
    if (!row) return null;
    const value = await this.get<T>(manager, id, orgId);
    return value === null ? null : { value, version: row.version };
  }

  /**
   * Rewrites an existing entry only if it is still at `expectedVersion`; false when another writer got there first
   * (the caller re-reads instead of overwriting newer data, e.g. a refresh token another worker just rotated).
   */
  async compareAndSwap(manager: EntityManager, entry: VaultEntryInput, expectedVersion: number): Promise<boolean> {
    const master = this.keyring.current;
    const dataKey = randomBytes(32);
    const aad = Buffer.from(`${entry.id}:${entry.orgId}`);
    const [, affected] = await manager.query(
      `UPDATE vault_entries SET key_id = $3, wrapped_key = $4, ciphertext = $5, version = version + 1, updated_at = now()
       WHERE id = $1 AND org_id = $2 AND version = $6`,
      [entry.id, entry.orgId, master.id, seal(master.key, dataKey, aad), seal(dataKey, Buffer.from(JSON.stringify(entry.value)), aad), expectedVersion],
    );
    return affected === 1;
  }

  /** Crypto-erase: the data key goes with the row, so no copy of the ciphertext can be read again. */
  async erase(manager: EntityManager, id: string, orgId: string): Promise<void> {
    await manager.query(`DELETE FROM vault_entries WHERE id = $1 AND org_id = $2`, [id, orgId]);
  }
}
