import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DomainError, ErrorCodes, GetServiceRequestSchema, Subjects, type GetServiceRequest, type ServiceView } from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { ServiceRecord } from '../read-models/service.record';
import { toServiceView } from '../read-models/service.view';

/** One service of the caller's org. Another org's service is "not found", never shown. */
@Controller()
export class GetServiceHandler {
  constructor(@InjectRepository(ServiceRecord) private readonly services: Repository<ServiceRecord>) {}

  @MessagePattern(Subjects.registry.getService)
  async handle(@Payload(new ContractPipe(GetServiceRequestSchema)) request: GetServiceRequest): Promise<ServiceView> {
    const record = await this.services.findOneBy({ orgId: request.actor.orgId, linkName: request.linkName });
    if (!record) throw new DomainError(ErrorCodes.serviceNotFound, `No service with link name "${request.linkName}" exists in this organization.`);
    return toServiceView(record);
  }
}
