import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { findCatalogEntry } from '@plugboard/catalog';
import {
  CreateServiceRequestSchema,
  Subjects,
  actorMetadata,
  type CreateServiceRequest,
  type ServiceView,
} from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { ServiceReader } from '../read-models/service.reader';
import { serviceCommands } from '../registry.commands';

/** Creates a custom service; its client or consumer secret goes to the vault in the same transaction. */
@Controller()
export class CreateServiceHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly reader: ServiceReader,
  ) {}

  @MessagePattern(Subjects.registry.createService)
  async handle(@Payload(new ContractPipe(CreateServiceRequestSchema)) request: CreateServiceRequest): Promise<ServiceView> {
    const { actor, service: input } = request;
    const secret = input.authType === 'oauth2' ? input.oauth2.clientSecret : input.authType === 'oauth1' ? input.oauth1.consumerSecret : null;
    const secretRef = secret ? randomUUID() : null;
    await serviceCommands.handle(
      this.store,
      {
        type: 'CreateService',
        data: { orgId: actor.orgId, owner: actor.userId, input, secretRef, predefinedName: findCatalogEntry(input.linkName)?.name ?? null, now: new Date().toISOString() },
      },
      {
        metadata: actorMetadata(actor),
        alsoWrite: secret && secretRef ? (manager) => this.vault.put(manager, { id: secretRef, orgId: actor.orgId, purpose: `service.${input.linkName}.secret`, value: secret }) : undefined,
      },
    );
    return this.reader.get(actor.orgId, input.linkName);
  }
}
