import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ConnectionRequestSchema,
  EditConnectionRequestSchema,
  RevokeConnectionRequestSchema,
  Subjects,
  actorMetadata,
  connectionStreamId,
  type ConnectionRequest,
  type ConnectionView,
  type EditConnectionRequest,
  type StoredCredential,
} from '@plugboard/contracts';
import { connectionDecider, type ConnectionState, type RevokeConnection } from '@plugboard/connection-domain';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import type { z } from 'zod';
import { connectionCommands } from '../connection-commands';
import { ProviderRevoker, type RetiredCredential } from '../flows/provider-revoker';
import { ConnectionReader } from '../read-models/connection.reader';
import { ServiceLookup } from '../read-models/service.lookup';

/** Edit (name and scopes), revoke and delete: the commands that change a connection without new credentials. */
@Controller()
export class ChangeConnectionHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceLookup,
    private readonly reader: ConnectionReader,
    private readonly provider: ProviderRevoker,
  ) {}

  @MessagePattern(Subjects.connection.editConnection)
  async edit(@Payload(new ContractPipe(EditConnectionRequestSchema)) request: EditConnectionRequest): Promise<ConnectionView> {
    const { actor, linkName, changes } = request;
    const current = await this.reader.get(actor.orgId, linkName, actor.userId);
    const serviceScopes = changes.scopes ? (await this.services.facts(actor, current.service)).scopes : [];
    await connectionCommands.handle(
      this.store,
      { type: 'EditConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, changes, serviceScopes, now: new Date().toISOString() } },
      { metadata: actorMetadata(actor) },
    );
    return this.reader.get(actor.orgId, linkName, actor.userId);
  }

  /**
   * Revokes the caller's credential (or the connection's own); it can be authorized again later. The credential stays
   * in the vault (retired); an OAuth 2 provider with a revocation endpoint is told after the revocation is recorded.
   * With `all`, the owner (or an admin) revokes every user's credential at once, as the service-edit saga does: the
   * credentials in force when the request is read are named, so one a user authorizes meanwhile stays, and they are
   * revoked in one append (one event per user) that a retry after a conflict repeats with the same names.
   */
  @MessagePattern(Subjects.connection.revokeConnection)
  async revoke(@Payload(new ContractPipe(RevokeConnectionRequestSchema)) request: z.output<typeof RevokeConnectionRequestSchema>): Promise<ConnectionView> {
    const { actor, linkName, all, byAdmin } = request;
    const streamId = connectionStreamId(actor.orgId, linkName);
    const now = new Date().toISOString();
    let command: RevokeConnection = { type: 'RevokeConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, reason: 'user', now } };
    if (all) {
      const { state } = await this.store.aggregateStream(streamId, connectionDecider);
      const inForce = state.status === 'active' ? Object.values(state.credentials).filter((c) => c.status === 'connected').map((c) => c.credentialRef) : [];
      command = { type: 'RevokeConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, reason: 'revoked_for_all', byAdmin, credentialRefs: inForce, now } };
    }
    const result = await connectionCommands.handle(this.store, command, { metadata: actorMetadata(actor) });
    if (result.state.status === 'active' && result.state.connection.service.authType === 'oauth2') {
      const retired: RetiredCredential[] = [];
      for (const event of result.events) {
        if (event.type !== 'ConnectionRevoked') continue;
        const credential = await this.vault.get<StoredCredential>(this.store.dataSource.manager, event.data.credentialRef, actor.orgId);
        if (credential) retired.push({ credentialRef: event.data.credentialRef, credential });
      }
      this.provider.revokeLater(actor.orgId, linkName, serviceRef(result.state), retired);
    }
    return this.reader.get(actor.orgId, linkName, actor.userId);
  }

  /**
   * Deletes a connection for good: every credential it held is erased from the vault with the event. The OAuth 2
   * tokens among them are read just before, for the provider's revocation endpoint (called after the commit).
   */
  @MessagePattern(Subjects.connection.deleteConnection)
  async delete(@Payload(new ContractPipe(ConnectionRequestSchema)) request: ConnectionRequest): Promise<{ deleted: true }> {
    const { actor, linkName } = request;
    const streamId = connectionStreamId(actor.orgId, linkName);
    // The service and parameters never change, so reading them ahead of the command is safe.
    const { state: before } = await this.store.aggregateStream(streamId, connectionDecider);
    const oauth2 = before.status === 'active' && before.connection.service.authType === 'oauth2';
    let retired: RetiredCredential[] = [];
    await connectionCommands.handle(
      this.store,
      { type: 'DeleteConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, now: new Date().toISOString() } },
      {
        metadata: actorMetadata(actor),
        alsoWrite: async (manager, events) => {
          // Run again from scratch when the append is retried after a concurrent write.
          retired = [];
          for (const event of events) {
            if (event.type !== 'ConnectionDeleted') continue;
            for (const ref of event.data.credentialRefs) {
              const credential = oauth2 ? await this.vault.get<StoredCredential>(manager, ref, actor.orgId) : null;
              if (credential) retired.push({ credentialRef: ref, credential });
              await this.vault.erase(manager, ref, actor.orgId);
            }
          }
        },
      },
    );
    if (before.status === 'active') this.provider.revokeLater(actor.orgId, linkName, serviceRef(before), retired);
    return { deleted: true };
  }
}

function serviceRef(state: Extract<ConnectionState, { status: 'active' }>) {
  return { service: state.connection.service.linkName, serviceType: state.connection.service.type, parameters: state.connection.parameters };
}
