import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, invalidField, type Actor } from '@plugboard/contracts';
import { neededBeforeAuthorization } from '@plugboard/catalog';
import type { ServiceFacts } from '@plugboard/connection-domain';
import { ServiceDefinitions, type ServiceOutline } from '@plugboard/registry';

/** A connection's service by its link name, as creating, editing or describing a connection needs it (read in-process). */
@Injectable()
export class ServiceLookup {
  constructor(private readonly services: ServiceDefinitions) {}

  /** A service the org does not have is the connection's field in error. */
  async outline(actor: Actor, linkName: string): Promise<ServiceOutline> {
    try {
      return await this.services.find(actor.orgId, linkName);
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCodes.serviceNotFound) {
        throw invalidField('connection.service', `no service with link name "${linkName}" exists in this organization`);
      }
      throw error;
    }
  }

  /** The outline in the shape the connect-link page reads (the registry's view's `oauth2.scopes` and `apiKey.params`). */
  async view(actor: Actor, linkName: string): Promise<ServiceOutline & { oauth2: { scopes: ServiceOutline['scopes'] }; apiKey: { params: ServiceOutline['apiKeyParams'] } }> {
    const service = await this.outline(actor, linkName);
    return { ...service, oauth2: { scopes: service.scopes }, apiKey: { params: service.apiKeyParams } };
  }

  async facts(actor: Actor, linkName: string): Promise<ServiceFacts> {
    const service = await this.outline(actor, linkName);
    const { entry } = service;
    return {
      linkName: service.linkName,
      type: service.type,
      authType: service.authType,
      scopes: service.scopes.map((s) => s.name),
      // What the provider gives when the connection is authorized need not be given now, unless an OAuth URL needs it first.
      parameters: entry ? (entry.connectionParameters ?? []).map((parameter) => ({ name: parameter.name, pattern: parameter.pattern, optional: !neededBeforeAuthorization(entry, parameter) })) : [],
    };
  }
}
