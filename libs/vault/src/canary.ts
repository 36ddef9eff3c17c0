import type { EntityManager } from 'typeorm';
import type { Keyring, MasterKey } from './keyring';
import { open, seal } from './sealing';

/** What every canary holds; GCM's tag, not this text, is what proves the key. */
const CANARY = Buffer.from('plugboard vault canary v1');
const canaryAad = (keyId: string) => Buffer.from(`vault-canary:${keyId}`);

/** The configured master keys are not the ones the vault was sealed with; the message names key ids, never a key. */
export class MasterKeyMismatchError extends Error {
  constructor(
    readonly expectedKeyIds: string[],
    message: string,
  ) {
    super(message);
    this.name = 'MasterKeyMismatchError';
  }
}

/** Something sealed under one master key id: a canary, or (in a vault older than canaries) a secret's data key. */
interface Witness {
  keyId: string;
  opensWith(master: MasterKey): boolean;
}

function opens(attempt: () => Buffer, expected: (plaintext: Buffer) => boolean): boolean {
  try {
    return expected(attempt());
  } catch {
    return false;
  }
}

async function witnesses(manager: EntityManager): Promise<{ canaryKeyIds: Set<string>; witnesses: Witness[] }> {
  const canaries: { key_id: string; sealed: Buffer }[] = await manager.query(`SELECT key_id, sealed FROM vault_canaries`);
  if (canaries.length > 0) {
    return {
      canaryKeyIds: new Set(canaries.map((c) => c.key_id)),
      witnesses: canaries.map((c) => ({ keyId: c.key_id, opensWith: (master) => opens(() => open(master.key, c.sealed, canaryAad(c.key_id)), (p) => p.equals(CANARY)) })),
    };
  }
  // A vault from before canaries: one secret per key id stands in, so a wrong key cannot plant the first canary.
  const entries: { id: string; org_id: string; key_id: string; wrapped_key: Buffer }[] = await manager.query(
    `SELECT DISTINCT ON (key_id) id, org_id, key_id, wrapped_key FROM vault_entries ORDER BY key_id, updated_at DESC`,
  );
  return {
    canaryKeyIds: new Set(),
    witnesses: entries.map((e) => ({ keyId: e.key_id, opensWith: (master) => opens(() => open(master.key, e.wrapped_key, Buffer.from(`${e.id}:${e.org_id}`)), (p) => p.length === 32) })),
  };
}

/**
 * Proves the keyring is the one the vault was sealed with, before anything reads or seals a secret: every canary (or,
 * in a vault without canaries, one secret per key id) whose key id the keyring holds must open with that key, and at
 * least one must be checkable. Then the current key gets its canary if it has none, so the next start can check it
 * and a rotation carries the proof forward. Throws MasterKeyMismatchError otherwise. Safe to run from many processes
 * at once: the canary is written with ON CONFLICT DO NOTHING.
 */
export async function checkMasterKey(manager: EntityManager, keyring: Keyring): Promise<void> {
  const found = await witnesses(manager);
  const expected = [...new Set(found.witnesses.map((w) => w.keyId))];
  const checkable = found.witnesses.filter((w) => keyring.byId(w.keyId));
  if (found.witnesses.length > 0 && checkable.length === 0) {
    throw new MasterKeyMismatchError(
      expected,
      `The vault was sealed with the master key ${quoted(expected)}, and PLUGBOARD_MASTER_KEY holds no key with that id (it holds ${quoted(keyring.ids)}). ` +
        `Start with the master key the vault was sealed with; to rotate, list the new key first and keep the old one after it ("<new id>:<base64>,${expected[0]}:<base64>").`,
    );
  }
  const wrong = checkable.find((w) => !w.opensWith(keyring.byId(w.keyId) as MasterKey));
  if (wrong) {
    throw new MasterKeyMismatchError(
      [wrong.keyId],
      `PLUGBOARD_MASTER_KEY's key "${wrong.keyId}" is not the key the vault was sealed with under that id: the vault's canary does not open with it. Start with the master key "${wrong.keyId}" the vault was sealed with.`,
    );
  }
  const current = keyring.current;
  if (!found.canaryKeyIds.has(current.id)) {
    await manager.query(`INSERT INTO vault_canaries (key_id, sealed) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING`, [current.id, seal(current.key, CANARY, canaryAad(current.id))]);
  }
}

const quoted = (ids: string[]) => ids.map((id) => `"${id}"`).join(' or ');
