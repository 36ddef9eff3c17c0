import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CreateConnectionRequestSchema,
  Subjects,
  actorMetadata,
  connectionStreamId,
  type ConnectionView,
  type CreateConnectionInput,
} from '@plugboard/contracts';
import { connectionDecider } from '@plugboard/connection-domain';
import { EventStore, handleCommand } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import type { z } from 'zod';
import { ConnectionReader } from '../read-models/connection.reader';
import { ServiceLookup } from '../read-models/service.lookup';

/** Creates a pending connection to a predefined or custom service. */
@Controller()
export class CreateConnectionHandler {
  constructor(
    private readonly store: EventStore,
    private readonly services: ServiceLookup,
    private readonly reader: ConnectionReader,
  ) {}

  @MessagePattern(Subjects.connection.createConnection)
  async handle(@Payload(new ContractPipe(CreateConnectionRequestSchema)) request: z.infer<typeof CreateConnectionRequestSchema>): Promise<ConnectionView> {
    const { actor } = request;
    const input: CreateConnectionInput = request.connection;
    const service = await this.services.facts(actor, input.service);
    const result = await handleCommand(
      this.store,
      connectionStreamId(actor.orgId, input.linkName),
      connectionDecider,
      { type: 'CreateConnection', data: { orgId: actor.orgId, owner: actor.userId, input, service, now: new Date().toISOString() } },
      { metadata: actorMetadata(actor) },
    );
    return this.reader.afterWrite(result.logPosition, actor.orgId, input.linkName, actor.userId);
  }
}
