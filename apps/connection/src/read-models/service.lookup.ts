import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, invalidField, Subjects, type Actor, type ServiceView } from '@plugboard/contracts';
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
      parameters: (service.connectionParameters ?? []).map(({ name, pattern }) => ({ name, pattern })),
    };
  }
}
