import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthorizeConnectionRequestSchema,
  connectionStreamId,
  DomainError,
  ErrorCodes,
  Subjects,
  type AuthorizeConnectionInput,
  type AuthorizeConnectionRequest,
  type AuthorizeResult,
  type ServiceView,
} from '@plugboard/contracts';
import { connectionDecider } from '@plugboard/connection-domain';
import { EventStore, handleCommand } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { ConnectionReader } from '../read-models/connection.reader';
import { ServiceLookup } from '../read-models/service.lookup';

/** What the vault holds for a connection: the credential, by auth type. */
export type StoredCredential = { kind: 'api_key'; values: Record<string, string> } | { kind: 'basic'; username: string; password: string };

function invalid(path: string, message: string): DomainError {
  return new DomainError(ErrorCodes.validationFailed, `The request is not valid. ${path}: ${message}.`, [{ path, message }]);
}

/** Checks what was posted against what the service's auth type needs. Values never appear in the messages. */
function credentialFor(service: ServiceView, input: AuthorizeConnectionInput): StoredCredential {
  switch (service.authType) {
    case 'api_key': {
      const values = input.values ?? {};
      const expected = (service.apiKey?.params ?? []).map((p) => p.name);
      const missing = expected.filter((name) => !(name in values));
      const unknown = Object.keys(values).filter((name) => !expected.includes(name));
      if (missing.length > 0) throw invalid('authorization.values', `the service needs ${missing.join(', ')}`);
      if (unknown.length > 0) throw invalid('authorization.values', `the service has no parameter ${unknown.join(', ')}`);
      return { kind: 'api_key', values };
    }
    case 'basic':
      if (!input.username || !input.password) throw invalid('authorization', 'a Basic service needs a username and a password');
      return { kind: 'basic', username: input.username, password: input.password };
    case 'oauth1':
    case 'oauth2':
      throw new DomainError(ErrorCodes.unavailable, `Authorizing ${service.authType === 'oauth2' ? 'OAuth 2' : 'OAuth 1.0a'} connections is not available in this version yet.`);
  }
}

/**
 * Authorizes a connection (or, with login-user credentials, the caller's own use of it). The credential goes to the
 * vault in the same transaction as ConnectionAuthorized; a credential it replaces is erased there too.
 */
@Controller()
export class AuthorizeConnectionHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceLookup,
    private readonly reader: ConnectionReader,
  ) {}

  @MessagePattern(Subjects.connection.authorizeConnection)
  async handle(@Payload(new ContractPipe(AuthorizeConnectionRequestSchema)) request: AuthorizeConnectionRequest): Promise<AuthorizeResult> {
    const { actor, linkName, authorization } = request;
    const connection = await this.reader.get(actor.orgId, linkName, actor.userId);
    const credential = credentialFor(await this.services.view(actor, connection.service), authorization);
    const credentialRef = randomUUID();
    const result = await handleCommand(
      this.store,
      connectionStreamId(actor.orgId, linkName),
      connectionDecider,
      { type: 'AuthorizeConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, credentialRef, grantedScopes: null, expiresAt: null, now: new Date().toISOString() } },
      {
        metadata: { orgId: actor.orgId, userId: actor.userId },
        alsoWrite: async (manager, events) => {
          await this.vault.put(manager, { id: credentialRef, orgId: actor.orgId, purpose: `connection.${linkName}.credential`, value: credential });
          for (const event of events) if (event.type === 'ConnectionAuthorized' && event.data.replacesCredentialRef) await this.vault.erase(manager, event.data.replacesCredentialRef, actor.orgId);
        },
      },
    );
    return { connection: await this.reader.afterWrite(result.logPosition, actor.orgId, linkName, actor.userId) };
  }
}
