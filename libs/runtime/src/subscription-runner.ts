import { Inject, Injectable, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap, type Provider, type Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { CatchUpSubscription, EventLogNotifier, EventStore, projectionHandler, takeOverFromSubscription, type Projection, type SubscriptionHandler, type SubscriptionOptions } from '@plugboard/event-store';
import { projectionEvents, projectionLag } from '@plugboard/metrics';
import { LOGGER } from './platform.module';

export const SUBSCRIPTIONS = Symbol('SUBSCRIPTIONS');

/**
 * Declares an app's projections and other log subscribers; the SubscriptionRunner starts them. An inline projection
 * (written by its commands) has no subscription: the runner takes it over from the one an earlier version ran.
 */
export function subscriptionsProvider(...sources: Type<Projection | SubscriptionHandler>[]): Provider {
  return { provide: SUBSCRIPTIONS, useFactory: (...instances: (Projection | SubscriptionHandler)[]) => instances, inject: sources };
}

/** Runs the app's subscriptions from bootstrap to shutdown. */
@Injectable()
export class SubscriptionRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly running: CatchUpSubscription[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly notifier: EventLogNotifier,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(SUBSCRIPTIONS) private readonly declared: (Projection | SubscriptionHandler)[] = [],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const one of this.declared) {
      if (!('apply' in one)) await this.add(one);
      else if (one.inline) await takeOverFromSubscription(this.store, one);
      else await this.add(projectionHandler(one));
    }
  }

  /** Starts one more subscription (used for subscribers created at run time, such as the event publisher). */
  async add(handler: SubscriptionHandler, options: SubscriptionOptions = {}): Promise<CatchUpSubscription> {
    const subscription = new CatchUpSubscription(this.store, handler, this.notifier, {
      onError: (error, name) => this.logger.error({ err: error, subscription: name }, 'subscription batch failed; it will be retried'),
      onBatch: (events, name) => {
        // Per-process cache tails carry a random suffix: one series for all of them.
        const subscription = options.ephemeral ? name.replace(/:[0-9a-f-]{36}$/, '') : name;
        projectionEvents.inc({ subscription }, events.length);
        projectionLag.set({ subscription }, (Date.now() - Date.parse(events[events.length - 1].recordedAt)) / 1000);
      },
      ...options,
    });
    await subscription.start();
    this.running.push(subscription);
    return subscription;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.running.map((s) => s.stop()));
  }
}
