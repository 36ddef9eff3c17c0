import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys, VERIFIED_KEY_CACHE_MS } from '@plugboard/access';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, SubscriptionRunner, vaultProvider, type PlatformOptions } from '@plugboard/runtime';
import { serviceAuthProvider } from '@plugboard/service-auth';
import { vaultMigrations } from '@plugboard/vault';
import { InvokeHandler } from './handlers/invoke.handler';
import { InvocationLog } from './invocation-log';
import { InvokeService } from './invoke.service';
import { InvokeSettings } from './invoke-settings';
import { CreateInvocations1731000003000 } from './migrations/1731000003000-create-invocations';
import { ProxyHandler } from './proxy/proxy.handler';
import { TargetResolver } from './targets/target.resolver';

export const INVOKE_PROXY = 'invoke-proxy';
// /v1/proxy authenticates its callers itself, with the gateway's API keys.
export const invokeProxyMigrations = [...eventStoreMigrations, ...vaultMigrations, ...accessMigrations, CreateInvocations1731000003000];

/** Every replica follows the log from now on, to drop cached targets the moment they change. */
@Injectable()
class CacheInvalidation implements OnApplicationBootstrap {
  constructor(
    private readonly runner: SubscriptionRunner,
    private readonly targets: TargetResolver,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.add(this.targets, { ephemeral: true, pollIntervalMs: 250 });
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
        serviceAuthProvider,
        TargetResolver,
        InvocationLog,
        InvokeService,
        ProxyHandler,
        { provide: ApiKeys, useFactory: (dataSource: DataSource) => new ApiKeys(dataSource, VERIFIED_KEY_CACHE_MS), inject: [DataSource] },
        SubscriptionRunner,
        CacheInvalidation,
      ],
    };
  }
}
