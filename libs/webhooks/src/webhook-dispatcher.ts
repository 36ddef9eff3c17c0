import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, type WebhookPayload } from '@plugboard/contracts';
import { LOGGER, PollingLoop } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';
import { WebhookDeliveries, type ClaimedDelivery } from './webhook-deliveries';
import { postWebhook } from './webhook-sender';
import { parseRetryAfter } from '@plugboard/outbound';
import { retryDelayMs, WEBHOOK_SETTINGS, webhookUrlProblem, type WebhookSettings } from './webhook-settings';
import { webhookSignature } from './webhook-signature';

/**
 * Sends the outbox: every replica of the connection app claims due deliveries (never the same ones) and POSTs them,
 * signed, to the org's webhook; a 2xx settles one, anything else schedules the next attempt with backoff.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly poller: PollingLoop;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deliveries: WebhookDeliveries,
    private readonly dataSource: DataSource,
    private readonly vault: Vault,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.poller = new PollingLoop(() => this.claimAndSend(), (error) => this.logger.error({ err: error }, 'webhook dispatcher could not read the outbox; it will look again'), settings.pollMs);
  }

  onApplicationBootstrap(): void {
    this.poller.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.poller.stop();
    // Attempts under way end within their timeout; their results are recorded before the database closes.
    await Promise.all(this.inFlight);
  }

  /** Claims what fits in the free slots and sends it; with every slot filled, looks again at once. */
  private async claimAndSend(): Promise<number> {
    const free = this.settings.concurrency - this.inFlight.size;
    if (free <= 0) return this.settings.pollMs;
    const claimed = await this.deliveries.claim(free);
    for (const delivery of claimed) this.start(delivery);
    return claimed.length === free ? 0 : this.settings.pollMs;
  }

  private start(delivery: ClaimedDelivery): void {
    const work = this.attempt(delivery)
      .catch((error) => this.logger.error({ err: error, orgId: delivery.orgId, eventId: delivery.eventId }, 'webhook attempt failed unexpectedly; it is retried after its claim runs out'))
      .finally(() => {
        this.inFlight.delete(work);
        this.poller.wake();
      });
    this.inFlight.add(work);
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const log = { orgId: d.orgId, eventId: d.eventId, type: d.type, attempt: d.attempt };
    if (webhookUrlProblem(d.url, this.settings)) {
      // The operator withdrew the host from the allowed ones since it was registered.
      await this.deliveries.failed(d, null, 'not_allowed', retryDelayMs(d.attempt, this.settings));
      this.logger.warn(log, 'webhook URL is no longer allowed; delivery not sent');
      return;
    }
    const secret = await this.vault.get<string>(this.dataSource.manager, d.secretRef, d.orgId);
    // Removed a moment ago: the outbox cancels the delivery as it reads the removal.
    if (secret === null) return;
    const payload: WebhookPayload = { id: d.eventId, type: d.type, occurredAt: d.occurredAt, orgId: d.orgId, data: d.data };
    const body = JSON.stringify(payload);
    const result = await postWebhook(
      d.url,
      body,
      { [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(secret, body, new Date()), [WEBHOOK_EVENT_ID_HEADER]: d.eventId, 'plugboard-event-type': d.type, 'plugboard-delivery-attempt': String(d.attempt) },
      this.settings,
    );
    if (result.ok) {
      await this.deliveries.delivered(d, result.status);
      this.logger.debug({ ...log, status: result.status }, 'webhook delivered');
      return;
    }
    const retryIn = retryDelayMs(d.attempt, this.settings, parseRetryAfter(result.retryAfter));
    await this.deliveries.failed(d, result.status, result.error, retryIn);
    this.logger.info({ ...log, status: result.status, error: result.error, retryInMs: d.attempt >= this.settings.maxAttempts ? null : retryIn }, 'webhook attempt failed');
  }
}
