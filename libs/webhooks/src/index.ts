export { WebhooksModule, webhooksMigrations } from './webhooks.module';
export { WebhookOutbox } from './webhook-outbox';
export { WebhookQueries, type WebhookDeliverySummary } from './webhook-queries';
