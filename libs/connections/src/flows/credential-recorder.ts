import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { actorMetadata, type Actor, type ConnectionView, type StoredCredential } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { Vault } from '@plugboard/vault';
import { connectionCommands } from '../connection-commands';
import { ConnectionReader } from '../read-models/connection.reader';

/** What an authorization granted, besides the credential: scopes, expiry, and the values its provider gave. */
export interface Grant {
  scopes: string[] | null;
  expiresAt: string | null;
  /** A predefined service's values from the token response or the callback (its catalog entry's sources), checked. */
  parameters?: Record<string, string>;
}

/**
 * The last step of every authorization flow: the credential goes to the vault in the same transaction as
 * ConnectionAuthorized, and the credential it replaces is erased there too.
 */
@Injectable()
export class CredentialRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly reader: ConnectionReader,
  ) {}

  async record(actor: Actor, linkName: string, credential: StoredCredential, grant: Grant = { scopes: null, expiresAt: null }): Promise<ConnectionView> {
    const credentialRef = randomUUID();
    await connectionCommands.handle(
      this.store,
      {
        type: 'AuthorizeConnection',
        data: { orgId: actor.orgId, userId: actor.userId, linkName, credentialRef, grantedScopes: grant.scopes, expiresAt: grant.expiresAt, parameters: grant.parameters, now: new Date().toISOString() },
      },
      {
        metadata: actorMetadata(actor),
        alsoWrite: async (manager, events) => {
          await this.vault.put(manager, { id: credentialRef, orgId: actor.orgId, purpose: `connection.${linkName}.credential`, value: credential });
          for (const event of events) {
            if (event.type === 'ConnectionAuthorized' && event.data.replacesCredentialRef) await this.vault.erase(manager, event.data.replacesCredentialRef, actor.orgId);
          }
        },
      },
    );
    return this.reader.get(actor.orgId, linkName, actor.userId);
  }
}
