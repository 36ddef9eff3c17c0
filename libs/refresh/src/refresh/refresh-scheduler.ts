import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PollingLoop } from '@plugboard/runtime';
import { RefreshMetrics } from './refresh-metrics';
import { RefreshSchedule, type ClaimedCredential } from './refresh-schedule';
import { REFRESH_SETTINGS, type RefreshSettings } from './refresh-settings';
import { Refresher } from './refresher';

/**
 * Proactive refresh: every interval (± 20 %, so replicas do not poll in step) each replica claims as many due
 * credentials as it has free slots and refreshes them. While the claims come back full it keeps going as slots
 * free up, so a stampede of expiries drains at the speed of the replicas together.
 */
@Injectable()
export class RefreshScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly poller: PollingLoop;
  private backlog = false;
  private overdueCountedAt = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly refresher: Refresher,
    private readonly schedule: RefreshSchedule,
    private readonly metrics: RefreshMetrics,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.poller = new PollingLoop(
      async () => {
        await this.tick();
        return this.backlog ? this.settings.intervalMs * 10 : this.settings.intervalMs * (0.8 + Math.random() * 0.4);
      },
      (error) => this.logger.error({ err: error }, 'refresh scheduler could not read the schedule; it will look again'),
      settings.intervalMs,
    );
  }

  onApplicationBootstrap(): void {
    if (this.settings.schedulerEnabled) this.poller.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.poller.stop();
    await Promise.all(this.inFlight);
  }

  /** One look at the schedule: claim what fits in the free slots and start it. */
  async tick(): Promise<void> {
    const free = this.settings.concurrency - this.inFlight.size;
    if (free > 0) {
      const claimed = await this.schedule.claim(free);
      this.backlog = claimed.length === free;
      for (const credential of claimed) this.start(credential);
    }
    // Counted once per interval, not after every batch of a backlog.
    if (Date.now() - this.overdueCountedAt >= this.settings.intervalMs) {
      this.overdueCountedAt = Date.now();
      this.metrics.overdue = await this.schedule.overdue();
    }
  }

  private start(credential: ClaimedCredential): void {
    const work = this.refreshOne(credential).finally(() => {
      this.inFlight.delete(work);
      // More is due than fits: claim again as soon as half the slots are free (claims in batches, not one by one).
      if (this.backlog && this.inFlight.size <= this.settings.concurrency / 2) this.poller.wake();
    });
    this.inFlight.add(work);
  }

  private async refreshOne(credential: ClaimedCredential): Promise<void> {
    try {
      const result = await this.refresher.refresh({
        orgId: credential.orgId,
        linkName: credential.linkName,
        userId: credential.userId,
        trigger: 'scheduled',
        credentialRef: credential.credentialRef,
        knownExpiresAt: credential.expiresAt,
      });
      // Refreshed, failed and revoked have updated the schedule in their own transaction; a busy credential stays
      // claimed until its lease's length has passed, by when its holder has updated it.
      if (result.outcome === 'already_fresh' && result.expiresAt) await this.schedule.alreadyFresh(credential.credentialRef, new Date(result.expiresAt));
    } catch (error) {
      // The claim runs out after a lease's length and the credential is tried again then.
      this.logger.error({ err: error, orgId: credential.orgId, linkName: credential.linkName, credentialRef: credential.credentialRef }, 'scheduled refresh failed unexpectedly');
    }
  }
}
