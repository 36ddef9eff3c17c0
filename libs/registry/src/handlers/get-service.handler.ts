import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { GetServiceRequestSchema, ListServicesRequestSchema, Subjects, type GetServiceRequest, type ListServicesRequest, type Page, type ServiceView } from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { ServiceClients } from '../read-models/service-clients';
import { ServiceReader } from '../read-models/service.reader';

/** One service of the caller's org, or the page of a list. Another org's service is "not found", never shown. */
@Controller()
export class GetServiceHandler {
  constructor(
    private readonly reader: ServiceReader,
    private readonly clients: ServiceClients,
  ) {}

  /** With, for a predefined OAuth service, the OAuth app the org uses (lists leave it out: one read per service). */
  @MessagePattern(Subjects.registry.getService)
  async get(@Payload(new ContractPipe(GetServiceRequestSchema)) request: GetServiceRequest): Promise<ServiceView> {
    return this.clients.withClient(request.actor.orgId, await this.reader.get(request.actor.orgId, request.linkName));
  }

  @MessagePattern(Subjects.registry.listServices)
  list(@Payload(new ContractPipe(ListServicesRequestSchema)) request: ListServicesRequest & { limit: number }): Promise<Page<ServiceView>> {
    return this.reader.list(request);
  }
}
