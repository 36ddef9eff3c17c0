import { Module, type DynamicModule } from '@nestjs/common';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, type PlatformOptions } from '@plugboard/runtime';

export const INVOKE_PROXY = 'invoke-proxy';
export const invokeProxyMigrations = [...eventStoreMigrations];

/** The invoke proxy: calls third-party APIs with injected credentials (coming with the invoke issue). */
@Module({})
export class InvokeProxyModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: InvokeProxyModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: INVOKE_PROXY })],
      controllers: [healthController(Subjects.invoke.health, INVOKE_PROXY)],
    };
  }
}
