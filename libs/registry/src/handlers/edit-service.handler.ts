import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { findCatalogEntry } from '@plugboard/catalog';
import {
  DomainError,
  EditServiceRequestSchema,
  ErrorCodes,
  Subjects,
  actorMetadata,
  serviceStreamId,
  type EditServiceRequest,
  type ServiceView,
} from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { serviceDecider } from '@plugboard/registry-domain';
import { Vault } from '@plugboard/vault';
import { ServiceReader } from '../read-models/service.reader';
import { serviceCommands } from '../registry.commands';

/**
 * Edits a custom service within the decider's rules. A new client or consumer secret that differs from the stored
 * one gets a new vault entry, and the old entry is erased, in the same transaction as the event.
 */
@Controller()
export class EditServiceHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly reader: ServiceReader,
  ) {}

  @MessagePattern(Subjects.registry.editService)
  async handle(@Payload(new ContractPipe(EditServiceRequestSchema)) request: EditServiceRequest): Promise<ServiceView> {
    const { actor, linkName } = request;
    const { state } = await this.store.aggregateStream(serviceStreamId(actor.orgId, linkName), serviceDecider);
    if (state.status !== 'active' && findCatalogEntry(linkName)) {
      throw new DomainError(ErrorCodes.serviceReadOnly, `"${linkName}" is a predefined service: it cannot be edited. Create a custom service to change its settings.`);
    }
    const changes = structuredClone(request.changes);
    const newSecret = changes.oauth2?.clientSecret ?? changes.oauth1?.consumerSecret;
    const oldRef = state.status === 'active' ? (state.service.oauth2?.clientSecretRef ?? state.service.oauth1?.consumerSecretRef ?? null) : null;
    let secretRef: string | null = null;
    if (newSecret !== undefined && oldRef) {
      // Sending the secret that is already stored is not a change, and must not revoke the service's connections.
      const stored = await this.vault.get<string>(this.store.dataSource.manager, oldRef, actor.orgId);
      if (stored === newSecret) {
        delete changes.oauth2?.clientSecret;
        delete changes.oauth1?.consumerSecret;
      } else {
        secretRef = randomUUID();
      }
    }
    await serviceCommands.handle(
      this.store,
      { type: 'EditService', data: { orgId: actor.orgId, userId: actor.userId, linkName, changes, secretRef, now: new Date().toISOString() } },
      {
        metadata: actorMetadata(actor),
        alsoWrite:
          secretRef && newSecret && oldRef
            ? async (manager) => {
                await this.vault.put(manager, { id: secretRef, orgId: actor.orgId, purpose: `service.${linkName}.secret`, value: newSecret });
                await this.vault.erase(manager, oldRef, actor.orgId);
              }
            : undefined,
      },
    );
    return this.reader.get(actor.orgId, linkName);
  }
}
