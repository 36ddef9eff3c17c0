import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  ListWebhookDeliveriesRequestSchema,
  RegisterWebhookRequestSchema,
  Subjects,
  WebhookRequestSchema,
  actorMetadata,
  invalidField,
  type Actor,
  type Page,
  type RegisterWebhookRequest,
  type WebhookDeliveryView,
  type WebhookEvent,
  type WebhookRequest,
  type WebhookView,
  type WebhookWithSecret,
} from '@plugboard/contracts';
import { commandHandlerFor, EventStore } from '@plugboard/event-store';
import { ContractPipe } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { WebhookDeliveries } from './webhook-deliveries';
import { webhookDecider, webhookStreamId, webhookView, type WebhookCommand } from './webhook.decider';
import { WEBHOOK_SETTINGS, webhookUrlProblem, type WebhookSettings } from './webhook-settings';
import { generateWebhookSecret } from './webhook-signature';

/** Every write to an org's webhook stream goes through here: the webhook decider, with the stream's version. */
const webhookCommands = commandHandlerFor(webhookDecider, (command: WebhookCommand) => webhookStreamId(command.data.orgId));

/**
 * The org's webhook: register (or replace) and rotate hand out a new signing secret once, which goes to the vault
 * in the transaction of its event; removing erases it. Reads come from the stream itself, so they see the last write.
 */
@Controller()
export class WebhookHandler {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly deliveries: WebhookDeliveries,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
  ) {}

  @MessagePattern(Subjects.connection.registerWebhook)
  async register(@Payload(new ContractPipe(RegisterWebhookRequestSchema)) request: RegisterWebhookRequest): Promise<WebhookWithSecret> {
    const { actor, webhook } = request;
    const problem = webhookUrlProblem(webhook.url, this.settings);
    if (problem) throw invalidField('url', problem);
    return this.withNewSecret(actor, { type: 'RegisterWebhook', data: { orgId: actor.orgId, userId: actor.userId, input: webhook, secretRef: randomUUID(), now: new Date().toISOString() } });
  }

  @MessagePattern(Subjects.connection.rotateWebhookSecret)
  rotateSecret(@Payload(new ContractPipe(WebhookRequestSchema)) request: WebhookRequest): Promise<WebhookWithSecret> {
    const { actor } = request;
    return this.withNewSecret(actor, { type: 'RotateWebhookSecret', data: { orgId: actor.orgId, userId: actor.userId, now: new Date().toISOString() } });
  }

  @MessagePattern(Subjects.connection.getWebhook)
  async get(@Payload(new ContractPipe(WebhookRequestSchema)) request: WebhookRequest): Promise<WebhookView> {
    const { state } = await this.store.aggregateStream(webhookStreamId(request.actor.orgId), webhookDecider);
    return webhookView(state);
  }

  @MessagePattern(Subjects.connection.removeWebhook)
  async remove(@Payload(new ContractPipe(WebhookRequestSchema)) request: WebhookRequest): Promise<{ deleted: true }> {
    const { actor } = request;
    await webhookCommands.handle(this.store, { type: 'RemoveWebhook', data: { orgId: actor.orgId, userId: actor.userId, now: new Date().toISOString() } }, {
      metadata: actorMetadata(actor),
      alsoWrite: async (manager, events) => {
        for (const event of events) if (event.type === 'WebhookRemoved') await this.vault.erase(manager, event.data.secretRef, actor.orgId);
      },
    });
    return { deleted: true };
  }

  @MessagePattern(Subjects.connection.listWebhookDeliveries)
  listDeliveries(@Payload(new ContractPipe(ListWebhookDeliveriesRequestSchema)) request: z.infer<typeof ListWebhookDeliveriesRequestSchema>): Promise<Page<WebhookDeliveryView>> {
    return this.deliveries.list(request.actor.orgId, request);
  }

  /** Records the command and, in the same transaction, the new secret under the vault entry its event names. */
  private async withNewSecret(actor: Actor, command: WebhookCommand): Promise<WebhookWithSecret> {
    const secret = generateWebhookSecret();
    const result = await webhookCommands.handle(this.store, command, {
      metadata: actorMetadata(actor),
      alsoWrite: async (manager, events) => {
        for (const event of events as WebhookEvent[]) {
          if (event.type === 'WebhookRegistered' || event.type === 'WebhookSecretRotated') {
            await this.vault.put(manager, { id: event.data.secretRef, orgId: actor.orgId, purpose: 'webhook.secret', value: secret });
          }
        }
      },
    });
    return { webhook: webhookView(result.state), secret };
  }
}
