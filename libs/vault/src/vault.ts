import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { checkMasterKey } from './canary';
import type { Keyring } from './keyring';
import { open, seal } from './sealing';

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

  /**
   * Refuses to go on unless the configured master keys are the ones this vault was sealed with (see `checkMasterKey`);
   * run it before serving, so a wrong key stops the start instead of failing every call and sealing new secrets with it.
   */
  checkMasterKey(manager: EntityManager): Promise<void> {
    return checkMasterKey(manager, this.keyring);
  }

  /**
   * The decrypted value, or null when there is no such entry in that org. An entry the configured master keys cannot
   * open is a `credential_unreadable` DomainError: a sentence for the caller instead of an unexplained 500.
   */
  async get<T>(manager: EntityManager, id: string, orgId: string): Promise<T | null> {
    const [row] = await manager.query(`SELECT key_id, wrapped_key, ciphertext FROM vault_entries WHERE id = $1 AND org_id = $2`, [id, orgId]);
    if (!row) return null;
    const master = this.keyring.byId(row.key_id);
    if (!master) throw unreadable(`it was sealed with the master key "${row.key_id}", which this deployment does not hold`);
    const aad = Buffer.from(`${id}:${orgId}`);
    try {
      const dataKey = open(master.key, row.wrapped_key, aad);
      return JSON.parse(open(dataKey, row.ciphertext, aad).toString()) as T;
    } catch {
      throw unreadable(`the master key "${row.key_id}" does not open it`);
    }
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

/** The key id is named (never the key) so an operator can tell which key is missing; the caller learns what to do. */
function unreadable(why: string): DomainError {
  return new DomainError(
    ErrorCodes.credentialUnreadable,
    `A stored secret cannot be decrypted: ${why}. An operator must configure the master key it was sealed with (PLUGBOARD_MASTER_KEY), or the secret must be entered or authorized again.`,
  );
}
