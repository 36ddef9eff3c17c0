import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PollingLoop } from '@plugboard/runtime';
import { REFRESH_SETTINGS, type RefreshSettings } from '../refresh/refresh-settings';
import { CredentialChecker } from './credential-checker';
import { VerifySchedule } from './verify-schedule';

/**
 * Scheduled verification: as often as the refresh scheduler looks (± 20 %), each replica claims the checks that are
 * due, up to PLUGBOARD_REFRESH_CONCURRENCY, and runs them. Off with the refresh scheduler (PLUGBOARD_REFRESH_SCHEDULER=off).
 */
@Injectable()
export class VerifyScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly poller: PollingLoop;

  constructor(
    private readonly schedule: VerifySchedule,
    private readonly checker: CredentialChecker,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.poller = new PollingLoop(
      async () => {
        await this.tick();
        return this.settings.intervalMs * (0.8 + Math.random() * 0.4);
      },
      (error) => this.logger.error({ err: error }, 'verify scheduler could not read its schedule; it will look again'),
      settings.intervalMs,
    );
  }

  onApplicationBootstrap(): void {
    if (this.settings.schedulerEnabled) this.poller.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.poller.stop();
  }

  /** One look: claim what is due and check it; returns how many were checked. */
  async tick(): Promise<number> {
    const due = await this.schedule.claim(this.settings.concurrency);
    await Promise.all(
      due.map((check) =>
        this.checker.check(check).catch((error: unknown) => {
          // The claim runs out after a lease's length and the credential is checked again then.
          this.logger.error({ err: error, orgId: check.orgId, linkName: check.linkName, credentialRef: check.credentialRef }, 'scheduled verification failed unexpectedly');
        }),
      ),
    );
    return due.length;
  }
}
