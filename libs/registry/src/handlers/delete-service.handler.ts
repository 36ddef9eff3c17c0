import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { findCatalogEntry } from '@plugboard/catalog';
import {
  DeleteServiceRequestSchema,
  DomainError,
  ErrorCodes,
  Subjects,
  actorMetadata,
  serviceStreamId,
  type DeleteServiceRequest,
} from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { serviceDecider } from '@plugboard/registry-domain';
import { Vault } from '@plugboard/vault';
import { ServiceReader } from '../read-models/service.reader';
import { serviceCommands } from '../registry.commands';

/** Deletes a custom service without connections; its secret is erased from the vault with the event. */
@Controller()
export class DeleteServiceHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly reader: ServiceReader,
  ) {}

  @MessagePattern(Subjects.registry.deleteService)
  async handle(@Payload(new ContractPipe(DeleteServiceRequestSchema)) request: DeleteServiceRequest): Promise<{ deleted: true }> {
    const { actor, linkName } = request;
    const { state } = await this.store.aggregateStream(serviceStreamId(actor.orgId, linkName), serviceDecider);
    if (state.status !== 'active' && findCatalogEntry(linkName)) {
      throw new DomainError(ErrorCodes.serviceReadOnly, `"${linkName}" is a predefined service: it cannot be deleted.`);
    }
    const secretRef = state.status === 'active' ? (state.service.oauth2?.clientSecretRef ?? state.service.oauth1?.consumerSecretRef ?? null) : null;
    await serviceCommands.handle(
      this.store,
      { type: 'DeleteService', data: { orgId: actor.orgId, userId: actor.userId, linkName, connectionCount: await this.reader.connectionCount(actor.orgId, linkName), now: new Date().toISOString() } },
      { metadata: actorMetadata(actor), alsoWrite: secretRef ? (manager) => this.vault.erase(manager, secretRef, actor.orgId) : undefined },
    );
    return { deleted: true };
  }
}
