import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys, VERIFIED_KEY_CACHE_MS } from '@plugboard/access';
import { Subjects } from '@plugboard/contracts';
import { EventLogNotifier, eventStoreMigrations } from '@plugboard/event-store';
import { healthController, LOGGER, PlatformModule, PollingLoop, vaultProvider, type PlatformOptions } from '@plugboard/runtime';
import { serviceDefinitionsProvider } from '@plugboard/registry';
import { vaultMigrations } from '@plugboard/vault';
import { InvokeHandler } from './handlers/invoke.handler';
import { InvocationLog } from './invocation-log';
import { InvokeService } from './invoke.service';
import { InvokeSettings } from './invoke-settings';
import { CallPipeline } from './pipeline/call-pipeline';
import { CreateInvocations1731000003000 } from './migrations/1731000003000-create-invocations';
import { AddInvocationEntry1731000003100 } from './migrations/1731000003100-add-invocation-entry';
import { ProxyHandler } from './proxy/proxy.handler';
import { TargetResolver } from './targets/target.resolver';

export const INVOKE_PROXY = 'invoke-proxy';
// /v1/proxy authenticates its callers itself, with the gateway's API keys.
export const invokeProxyMigrations = [...eventStoreMigrations, ...vaultMigrations, ...accessMigrations, CreateInvocations1731000003000, AddInvocationEntry1731000003100];

/**
 * Calls read the change feed themselves before using a cached credential; reading it every 250 ms (and when the log
 * grows) as well keeps that read short after a quiet spell.
 */
@Injectable()
class ChangeFeedKeeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;
  private unsubscribe?: () => void;

  constructor(
    private readonly targets: TargetResolver,
    private readonly notifier: EventLogNotifier,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.loop = new PollingLoop(() => this.targets.changes.sync().then(() => 250), (error) => logger.warn({ err: error }, 'reading the change feed failed; calls read it again themselves'), 1000);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.targets.changes.sync();
    this.unsubscribe = this.notifier.onAppend(() => this.loop.wake());
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }
}

/** The invoke proxy: calls third-party APIs through a connection's link name, credentials injected. */
@Module({})
export class InvokeProxyModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: InvokeProxyModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: INVOKE_PROXY })],
      controllers: [InvokeHandler, healthController(Subjects.invoke.health, INVOKE_PROXY)],
      providers: [
        vaultProvider,
        InvokeSettings,
        serviceDefinitionsProvider,
        TargetResolver,
        InvocationLog,
        CallPipeline,
        InvokeService,
        ProxyHandler,
        { provide: ApiKeys, useFactory: (dataSource: DataSource) => new ApiKeys(dataSource, VERIFIED_KEY_CACHE_MS), inject: [DataSource] },
        ChangeFeedKeeper,
      ],
    };
  }
}
