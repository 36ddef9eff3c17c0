import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { EventLogNotifier } from '@plugboard/event-store';
import { LOGGER, PollingLoop } from '@plugboard/runtime';
import { ConnectionCredentials } from './connection-credentials';

/**
 * Calls read the change feed themselves before using a cached credential; reading it every 250 ms (and when the log
 * grows) as well keeps that read short after a quiet spell.
 */
@Injectable()
export class ChangeFeedKeeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;
  private unsubscribe?: () => void;

  constructor(
    private readonly credentials: ConnectionCredentials,
    private readonly notifier: EventLogNotifier,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.loop = new PollingLoop(() => this.credentials.changes.sync().then(() => 250), (error) => logger.warn({ err: error }, 'reading the change feed failed; calls read it again themselves'), 1000);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.credentials.changes.sync();
    this.unsubscribe = this.notifier.onAppend((categories) => (!categories || categories.includes('connection') || categories.includes('service')) && this.loop.wake());
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }
}
