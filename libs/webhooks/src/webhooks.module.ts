import { Module } from '@nestjs/common';
import { EgressPolicy } from '@plugboard/outbound';
import { PLATFORM_CONFIG, VaultModule, type PlatformConfig } from '@plugboard/runtime';
import { CreateWebhooks1731000002200 } from './migrations/1731000002200-create-webhooks';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookOutbox } from './webhook-outbox';
import { WEBHOOK_SETTINGS, webhookSettings } from './webhook-settings';
import { WebhookHandler } from './webhook.handler';

/** The tables this module owns, for the app that runs it to list among its migrations. */
export const webhooksMigrations = [CreateWebhooks1731000002200];

/**
 * An org's webhook: its stream's command handler on the bus, the outbox that turns the log into deliveries and the
 * dispatcher that sends them. It stands on the app's PlatformModule (event store, database, configuration, egress
 * policy). The outbox is a log subscription: it is exported for the app's one SubscriptionRunner to run.
 */
@Module({
  imports: [VaultModule],
  controllers: [WebhookHandler],
  providers: [
    { provide: WEBHOOK_SETTINGS, useFactory: (config: PlatformConfig, egress: EgressPolicy) => webhookSettings(config, egress), inject: [PLATFORM_CONFIG, EgressPolicy] },
    WebhookOutbox,
    WebhookDeliveries,
    WebhookDispatcher,
  ],
  exports: [WebhookOutbox],
})
export class WebhooksModule {}
