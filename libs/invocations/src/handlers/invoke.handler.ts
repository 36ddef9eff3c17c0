import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InvokeRequestSchema, Subjects, type InvokeResponse } from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import type { z } from 'zod';
import { InvokeService } from '../invoke.service';

/** `plugboard.invoke.request`: other products (and the gateway's POST /v1/invoke and MCP tools) call APIs through a link name. */
@Controller()
export class InvokeHandler {
  constructor(private readonly invoker: InvokeService) {}

  @MessagePattern(Subjects.invoke.request)
  handle(@Payload(new ContractPipe(InvokeRequestSchema)) request: z.output<typeof InvokeRequestSchema>): Promise<InvokeResponse> {
    return this.invoker.invoke(request.actor, request.invoke, request.entry);
  }
}
