import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { findCatalogEntry } from '@plugboard/catalog';
import {
  actorMetadata,
  DomainError,
  ErrorCodes,
  RemoveServiceClientRequestSchema,
  SetServiceClientRequestSchema,
  Subjects,
  type RemoveServiceClientRequest,
  type ServiceView,
  type SetServiceClientRequest,
} from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { ServiceClients } from '../read-models/service-clients';
import { ServiceReader } from '../read-models/service.reader';
import { serviceClientCommands } from '../registry.commands';

/**
 * `PUT/DELETE /v1/services/{linkName}/client`: an org's own OAuth app for a predefined service. Its secret goes to the
 * vault in the event's transaction (the replaced or removed one is erased there); only a reference enters the log.
 */
@Controller()
export class ServiceClientHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly reader: ServiceReader,
    private readonly clients: ServiceClients,
  ) {}

  @MessagePattern(Subjects.registry.setServiceClient)
  async set(@Payload(new ContractPipe(SetServiceClientRequestSchema)) request: SetServiceClientRequest): Promise<ServiceView> {
    const { actor, linkName, client } = request;
    const entry = this.predefined(linkName);
    const { client: current } = await this.clients.state(actor.orgId, linkName);
    // The secret already stored is not a change (and must not revoke the connections that use it).
    const sameSecret = current !== null && (await this.vault.get<string>(this.store.dataSource.manager, current.clientSecretRef, actor.orgId)) === client.clientSecret;
    const secretRef = sameSecret ? null : randomUUID();
    await serviceClientCommands.handle(
      this.store,
      { type: 'SetServiceClient', data: { orgId: actor.orgId, userId: actor.userId, linkName, service: { name: entry.name, authType: entry.authType }, clientId: client.clientId, secretRef, now: new Date().toISOString() } },
      {
        metadata: actorMetadata(actor),
        alsoWrite: secretRef
          ? async (manager) => {
              await this.vault.put(manager, { id: secretRef, orgId: actor.orgId, purpose: `service.${linkName}.client`, value: client.clientSecret });
              if (current) await this.vault.erase(manager, current.clientSecretRef, actor.orgId);
            }
          : undefined,
      },
    );
    return this.clients.withClient(actor.orgId, await this.reader.get(actor.orgId, linkName));
  }

  @MessagePattern(Subjects.registry.removeServiceClient)
  async remove(@Payload(new ContractPipe(RemoveServiceClientRequestSchema)) request: RemoveServiceClientRequest): Promise<ServiceView> {
    const { actor, linkName } = request;
    this.predefined(linkName);
    await serviceClientCommands.handle(
      this.store,
      { type: 'RemoveServiceClient', data: { orgId: actor.orgId, userId: actor.userId, linkName, now: new Date().toISOString() } },
      {
        metadata: actorMetadata(actor),
        alsoWrite: async (manager, events) => {
          for (const event of events) if (event.type === 'ServiceClientRemoved') await this.vault.erase(manager, event.data.clientSecretRef, actor.orgId);
        },
      },
    );
    return this.clients.withClient(actor.orgId, await this.reader.get(actor.orgId, linkName));
  }

  private predefined(linkName: string) {
    const entry = findCatalogEntry(linkName);
    if (!entry) {
      throw new DomainError(ErrorCodes.serviceNotFound, `No predefined service has the link name "${linkName}". A custom service keeps its OAuth app in its own settings (PATCH /v1/services/${linkName}).`);
    }
    return entry;
  }
}
