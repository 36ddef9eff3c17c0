import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CreateConnectionRequestSchema,
  DomainError,
  ErrorCodes,
  linkNameCandidates,
  Subjects,
  actorMetadata,
  type ConnectionView,
  type CreateConnectionInput,
} from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import type { z } from 'zod';
import { connectionCommands } from '../connection-commands';
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
    const { linkName: given, ...input }: CreateConnectionInput = request.connection;
    const service = await this.services.facts(actor, input.service);
    // A given link name is taken or refused as it is; a derived one moves on to the next number when it is taken.
    for (const linkName of given ? [given] : linkNameCandidates(input.name)) {
      try {
        await connectionCommands.handle(
          this.store,
          { type: 'CreateConnection', data: { orgId: actor.orgId, owner: actor.userId, input: { ...input, linkName }, service, now: new Date().toISOString() } },
          { metadata: actorMetadata(actor) },
        );
        return await this.reader.get(actor.orgId, linkName, actor.userId);
      } catch (error) {
        if (given || !(error instanceof DomainError) || error.code !== ErrorCodes.linkNameTaken) throw error;
      }
    }
    throw new DomainError(ErrorCodes.linkNameTaken, `Every link name derived from "${input.name}" is taken in this organization. Give a linkName.`);
  }
}
