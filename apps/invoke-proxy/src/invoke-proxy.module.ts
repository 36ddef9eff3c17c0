import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys, VERIFIED_KEY_CACHE_MS } from '@plugboard/access';
import { Subjects } from '@plugboard/contracts';
import { ConnectionCredentialsModule } from '@plugboard/connections';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';
import { InvokeHandler } from './handlers/invoke.handler';
import { InvocationLog } from './invocation-log';
import { InvokeService } from './invoke.service';
import { InvokeSettings } from './invoke-settings';
import { CallPipeline } from './pipeline/call-pipeline';
import { CreateInvocations1731000003000 } from './migrations/1731000003000-create-invocations';
import { AddInvocationEntry1731000003100 } from './migrations/1731000003100-add-invocation-entry';
import { ProxyHandler } from './proxy/proxy.handler';

export const INVOKE_PROXY = 'invoke-proxy';
// /v1/proxy authenticates its callers itself, with the gateway's API keys.
export const invokeProxyMigrations = [...eventStoreMigrations, ...vaultMigrations, ...accessMigrations, CreateInvocations1731000003000, AddInvocationEntry1731000003100];

/** The invoke proxy: calls third-party APIs through a connection's link name, credentials injected. */
@Module({})
export class InvokeProxyModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: InvokeProxyModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: INVOKE_PROXY }), ConnectionCredentialsModule],
      controllers: [InvokeHandler, healthController(Subjects.invoke.health, INVOKE_PROXY)],
      providers: [
        InvokeSettings,
        InvocationLog,
        CallPipeline,
        InvokeService,
        ProxyHandler,
        { provide: ApiKeys, useFactory: (dataSource: DataSource) => new ApiKeys(dataSource, VERIFIED_KEY_CACHE_MS), inject: [DataSource] },
      ],
    };
  }
}
