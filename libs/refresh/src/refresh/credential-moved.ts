import type { EntityManager } from 'typeorm';

/** The credential's vault entry changed since it was read: a result about it is about an older one, and is not recorded. */
export class CredentialMoved extends Error {
  constructor() {
    super('the credential was rewritten since it was read');
  }
}

/**
 * A command precondition: locks the credential's vault row until the command commits and refuses (CredentialMoved)
 * when it no longer holds the version that was read. `erased` says what a row no longer there means.
 */
export function vaultRowUnchanged(credential: { orgId: string; credentialRef: string; version: number }, erased: 'moved' | 'unchanged') {
  return async (manager: EntityManager): Promise<void> => {
    const [row] = await manager.query(`SELECT version FROM vault_entries WHERE id = $1 AND org_id = $2 FOR UPDATE`, [credential.credentialRef, credential.orgId]);
    if (row ? row.version !== credential.version : erased === 'moved') throw new CredentialMoved();
  };
}
