import { Module, type DynamicModule } from '@nestjs/common';
import { connectionsMigrations } from '@plugboard/connections';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { RefreshModule, refreshMigrations, RefreshScheduleProjection, VerifyScheduleProjection } from '@plugboard/refresh';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';

export const TOKEN_REFRESH = 'token-refresh';
/** With the connections' tables: its refresh and verification results are connection commands, which write their read model inline. */
export const tokenRefreshMigrations = [...eventStoreMigrations, ...vaultMigrations, ...connectionsMigrations, ...refreshMigrations];

/** The token-refresh app: it wires the refresh module to NATS and runs its two schedule projections. */
@Module({})
export class TokenRefreshModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: TokenRefreshModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: TOKEN_REFRESH }), RefreshModule.register()],
      controllers: [healthController(Subjects.tokenRefresh.health, TOKEN_REFRESH)],
      providers: [subscriptionsProvider(RefreshScheduleProjection, VerifyScheduleProjection), SubscriptionRunner],
    };
  }
}
