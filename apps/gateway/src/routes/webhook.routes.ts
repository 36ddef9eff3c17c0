import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { Subjects, type Actor, type Page, type WebhookDeliveryView, type WebhookView, type WebhookWithSecret } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { CurrentActor, RequiresRole } from '../http/auth';

/** `/v1/webhook`: the org's webhook and its delivery log, kept by the connection app. Admins only: it sees every connection's events. */
@Controller('v1/webhook')
@RequiresRole('admin')
export class WebhookRoutes {
  constructor(private readonly rpc: RpcClient) {}

  @Put()
  @HttpCode(200)
  register(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<WebhookWithSecret> {
    return this.rpc.request(Subjects.connection.registerWebhook, { actor, webhook: (body ?? {}) as never });
  }

  @Get()
  get(@CurrentActor() actor: Actor): Promise<WebhookView> {
    return this.rpc.request(Subjects.connection.getWebhook, { actor });
  }

  @Delete()
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor): Promise<void> {
    await this.rpc.request(Subjects.connection.removeWebhook, { actor });
  }

  @Post('rotate-secret')
  @HttpCode(200)
  rotateSecret(@CurrentActor() actor: Actor): Promise<WebhookWithSecret> {
    return this.rpc.request(Subjects.connection.rotateWebhookSecret, { actor });
  }

  @Get('deliveries')
  deliveries(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Page<WebhookDeliveryView>> {
    return this.rpc.request(Subjects.connection.listWebhookDeliveries, { ...query, actor } as never);
  }
}
