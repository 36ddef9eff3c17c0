import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, invalidField, Subjects, type Actor, type ServiceView } from '@plugboard/contracts';
import { findCatalogEntry, neededBeforeAuthorization } from '@plugboard/catalog';
import type { ServiceFacts } from '@plugboard/connection-domain';
import { RpcClient } from '@plugboard/messaging';

/** Asks the registry (the owner of services) what a connection needs to know of its service. */
@Injectable()
export class ServiceLookup {
  constructor(private readonly rpc: RpcClient) {}

  async view(actor: Actor, linkName: string): Promise<ServiceView> {
    try {
      return await this.rpc.request(Subjects.registry.getService, { actor, linkName });
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCodes.serviceNotFound) {
        throw invalidField('connection.service', `no service with link name "${linkName}" exists in this organization`);
      }
      throw error;
    }
  }

  async facts(actor: Actor, linkName: string): Promise<ServiceFacts> {
    const service = await this.view(actor, linkName);
    return {
      linkName: service.linkName,
      type: service.type,
      authType: service.authType,
      scopes: service.oauth2?.scopes?.map((s) => s.name) ?? [],
      // What the provider gives when the connection is authorized need not be given now, unless an OAuth URL needs it first.
      parameters: (service.connectionParameters ?? []).map(({ name, pattern }) => ({ name, pattern, optional: !neededNow(service, name) })),
    };
  }
}

function neededNow(service: ServiceView, name: string): boolean {
  const entry = service.type === 'predefined' ? findCatalogEntry(service.linkName) : undefined;
  const parameter = entry?.connectionParameters?.find((p) => p.name === name);
  return !entry || !parameter || neededBeforeAuthorization(entry, parameter);
}
