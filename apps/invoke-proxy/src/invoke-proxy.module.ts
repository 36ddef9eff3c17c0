import { Module, type DynamicModule } from '@nestjs/common';
import { accessMigrations } from '@plugboard/access';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { InvocationsModule, invocationsMigrations } from '@plugboard/invocations';
import { healthController, PlatformModule, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';

export const INVOKE_PROXY = 'invoke-proxy';
// /v1/proxy authenticates its callers itself, with the gateway's API keys.
export const invokeProxyMigrations = [...eventStoreMigrations, ...vaultMigrations, ...accessMigrations, ...invocationsMigrations];

/**
 * The invoke-proxy app: it wires the invocations module (which brings the connections module's ConnectionCredentials
 * port) to NATS; main.ts serves its /v1/proxy listener over HTTP (proxy-server.ts).
 */
@Module({})
export class InvokeProxyModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: InvokeProxyModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: INVOKE_PROXY }), InvocationsModule],
      controllers: [healthController(Subjects.invoke.health, INVOKE_PROXY)],
    };
  }
}
