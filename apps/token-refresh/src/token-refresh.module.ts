import { Module, type DynamicModule } from '@nestjs/common';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, type PlatformOptions } from '@plugboard/runtime';

export const TOKEN_REFRESH = 'token-refresh';
export const tokenRefreshMigrations = [...eventStoreMigrations];

/** The token-refresh app: keeps OAuth tokens fresh (coming with the token-refresh issue). */
@Module({})
export class TokenRefreshModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: TokenRefreshModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: TOKEN_REFRESH })],
      controllers: [healthController(Subjects.tokenRefresh.health, TOKEN_REFRESH)],
    };
  }
}
