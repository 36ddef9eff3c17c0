import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { Subjects, type Actor, type Page, type ServiceView } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { CurrentActor, RequiresRole } from '../http/auth';

/** `/v1/services`: the registry's operations over HTTP. Validation happens in the registry, once. */
@Controller('v1/services')
export class ServicesRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Page<ServiceView>> {
    return this.rpc.request(Subjects.registry.listServices, { ...query, actor } as never);
  }

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

  @Patch(':linkName')
  @RequiresRole('member')
  edit(@CurrentActor() actor: Actor, @Param('linkName') linkName: string, @Body() body: unknown): Promise<ServiceView> {
    return this.rpc.request(Subjects.registry.editService, { actor, linkName, changes: body as never });
  }

  /** An org's own OAuth app for a predefined service (admins): the secret is kept in the vault and shown masked. */
  @Put(':linkName/client')
  @RequiresRole('admin')
  setClient(@CurrentActor() actor: Actor, @Param('linkName') linkName: string, @Body() body: unknown): Promise<ServiceView> {
    return this.rpc.request(Subjects.registry.setServiceClient, { actor, linkName, client: body as never });
  }

  /** Back to the deployment's OAuth app (PLUGBOARD_PREDEFINED_CLIENTS), if it has one. */
  @Delete(':linkName/client')
  @RequiresRole('admin')
  removeClient(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<ServiceView> {
    return this.rpc.request(Subjects.registry.removeServiceClient, { actor, linkName });
  }

  @Delete(':linkName')
  @HttpCode(204)
  @RequiresRole('member')
  async delete(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<void> {
    await this.rpc.request(Subjects.registry.deleteService, { actor, linkName });
  }
}
