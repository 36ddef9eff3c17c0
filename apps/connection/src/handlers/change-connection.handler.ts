import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  connectionStreamId,
  ConnectionRequestSchema,
  EditConnectionRequestSchema,
  Subjects,
  type ConnectionRequest,
  type ConnectionView,
  type EditConnectionRequest,
} from '@plugboard/contracts';
import { connectionDecider } from '@plugboard/connection-domain';
import { EventStore, handleCommand } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
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
  ) {}

  @MessagePattern(Subjects.connection.editConnection)
  async edit(@Payload(new ContractPipe(EditConnectionRequestSchema)) request: EditConnectionRequest): Promise<ConnectionView> {
    const { actor, linkName, changes } = request;
    const current = await this.reader.get(actor.orgId, linkName, actor.userId);
    const serviceScopes = changes.scopes ? (await this.services.facts(actor, current.service)).scopes : [];
    const result = await handleCommand(
      this.store,
      connectionStreamId(actor.orgId, linkName),
      connectionDecider,
      { type: 'EditConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, changes, serviceScopes, now: new Date().toISOString() } },
      { metadata: { orgId: actor.orgId, userId: actor.userId } },
    );
    return this.reader.afterWrite(result.logPosition, actor.orgId, linkName, actor.userId);
  }

  /** Revokes the caller's credential (or the connection's own); it can be authorized again later. */
  @MessagePattern(Subjects.connection.revokeConnection)
  async revoke(@Payload(new ContractPipe(ConnectionRequestSchema)) request: ConnectionRequest): Promise<ConnectionView> {
    const { actor, linkName } = request;
    const result = await handleCommand(
      this.store,
      connectionStreamId(actor.orgId, linkName),
      connectionDecider,
      { type: 'RevokeConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, reason: 'user', now: new Date().toISOString() } },
      { metadata: { orgId: actor.orgId, userId: actor.userId } },
    );
    return this.reader.afterWrite(result.logPosition, actor.orgId, linkName, actor.userId);
  }

  /** Deletes a connection for good: every credential it held is erased from the vault with the event. */
  @MessagePattern(Subjects.connection.deleteConnection)
  async delete(@Payload(new ContractPipe(ConnectionRequestSchema)) request: ConnectionRequest): Promise<{ deleted: true }> {
    const { actor, linkName } = request;
    const result = await handleCommand(
      this.store,
      connectionStreamId(actor.orgId, linkName),
      connectionDecider,
      { type: 'DeleteConnection', data: { orgId: actor.orgId, userId: actor.userId, linkName, now: new Date().toISOString() } },
      {
        metadata: { orgId: actor.orgId, userId: actor.userId },
        alsoWrite: async (manager, events) => {
          for (const event of events) if (event.type === 'ConnectionDeleted') for (const ref of event.data.credentialRefs) await this.vault.erase(manager, ref, actor.orgId);
        },
      },
    );
    await this.reader.settle(result.logPosition);
    return { deleted: true };
  }
}
