import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { CreateServiceRequestSchema, serviceStreamId, Subjects, type CreateServiceRequest, type ServiceView } from '@plugboard/contracts';
import { EventStore, handleCommand, waitForCheckpoint } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { serviceDecider } from '@plugboard/registry-domain';
import { Vault } from '@plugboard/vault';
import { ServiceRecord } from '../read-models/service.record';
import { toServiceView } from '../read-models/service.view';

/** Creates a custom service; its client or consumer secret goes to the vault in the same transaction. */
@Controller()
export class CreateServiceHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    @InjectRepository(ServiceRecord) private readonly services: Repository<ServiceRecord>,
  ) {}

  @MessagePattern(Subjects.registry.createService)
  async handle(@Payload(new ContractPipe(CreateServiceRequestSchema)) request: CreateServiceRequest): Promise<ServiceView> {
    const { actor, service: input } = request;
    const secret = input.authType === 'oauth2' ? input.oauth2.clientSecret : input.authType === 'oauth1' ? input.oauth1.consumerSecret : null;
    const secretRef = secret ? randomUUID() : null;
    const result = await handleCommand(
      this.store,
      serviceStreamId(actor.orgId, input.linkName),
      serviceDecider,
      { type: 'CreateService', data: { orgId: actor.orgId, owner: actor.userId, input, secretRef, now: new Date().toISOString() } },
      {
        metadata: { orgId: actor.orgId, userId: actor.userId },
        alsoWrite: secret && secretRef ? (manager) => this.vault.put(manager, { id: secretRef, orgId: actor.orgId, purpose: `service.${input.linkName}.secret`, value: secret }) : undefined,
      },
    );
    // Reply once the read model shows the service, so the caller can read it back at once.
    if (result.logPosition) await waitForCheckpoint(this.store, 'projection:services', result.logPosition);
    const record = await this.services.findOneByOrFail({ orgId: actor.orgId, linkName: input.linkName });
    return toServiceView(record);
  }
}
