import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ConnectionRequestSchema, ListConnectionsRequestSchema, Subjects, type ConnectionRequest, type ConnectionView, type Page } from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import type { z } from 'zod';
import { ConnectionReader } from '../read-models/connection.reader';

/** One connection as the caller sees it, or a page of one of the three views. */
@Controller()
export class GetConnectionHandler {
  constructor(private readonly reader: ConnectionReader) {}

  @MessagePattern(Subjects.connection.getConnection)
  get(@Payload(new ContractPipe(ConnectionRequestSchema)) request: ConnectionRequest): Promise<ConnectionView> {
    return this.reader.get(request.actor.orgId, request.linkName, request.actor.userId);
  }

  @MessagePattern(Subjects.connection.listConnections)
  list(@Payload(new ContractPipe(ListConnectionsRequestSchema)) request: z.infer<typeof ListConnectionsRequestSchema>): Promise<Page<ConnectionView>> {
    return this.reader.list(request);
  }
}
