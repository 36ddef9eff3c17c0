export { WebhooksModule, webhooksMigrations } from './webhooks.module';
export { WebhookOutbox } from './webhook-outbox';
