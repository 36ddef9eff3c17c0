import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Subjects, type Actor, type ServiceView } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { CurrentActor, RequiresRole } from '../http/auth';

/** `/v1/services`: the registry's operations over HTTP. Validation happens in the registry, once. */
@Controller('v1/services')
export class ServicesRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @RequiresRole('member')
  create(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<ServiceView> {
    return this.rpc.request(Subjects.registry.createService, { actor, service: body as never });
  }

  @Get(':linkName')
  get(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<ServiceView> {
    return this.rpc.request(Subjects.registry.getService, { actor, linkName });
  }
}
