import { Module, type DynamicModule } from '@nestjs/common';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, vaultProvider, type PlatformOptions } from '@plugboard/runtime';
import { serviceDefinitionsProvider } from '@plugboard/registry';
import { vaultMigrations } from '@plugboard/vault';
import { RefreshController } from './handlers/refresh.controller';
import { CreateRefreshTables1731000004000 } from './migrations/1731000004000-create-refresh-tables';
import { RefreshScheduleProjection } from './projections/refresh-schedule.projection';
import { Leases } from './refresh/leases';
import { OAuthSettingsResolver } from './refresh/oauth-settings.resolver';
import { RefreshMetrics } from './refresh/refresh-metrics';
import { RefreshSchedule } from './refresh/refresh-schedule';
import { RefreshScheduler } from './refresh/refresh-scheduler';
import { loadRefreshSettings, REFRESH_SETTINGS, type RefreshSettings } from './refresh/refresh-settings';
import { Refresher } from './refresh/refresher';
import { CreateVerifySchedule1731000004100 } from './migrations/1731000004100-create-verify-schedule';
import { VerifyScheduleProjection } from './projections/verify-schedule.projection';
import { CredentialChecker } from './verify/credential-checker';
import { VerifySchedule } from './verify/verify-schedule';
import { VerifyScheduler } from './verify/verify-scheduler';

export const TOKEN_REFRESH = 'token-refresh';
export const tokenRefreshMigrations = [...eventStoreMigrations, ...vaultMigrations, CreateRefreshTables1731000004000, CreateVerifySchedule1731000004100];

/**
 * The token-refresh app: keeps OAuth 2 credentials fresh, before they expire (the scheduler, from the schedule the
 * projection keeps) and on demand (`tokenRefresh.refresh`), one refresh per credential at a time across replicas;
 * and re-checks credentials that never expire with their service's verification call.
 */
@Module({})
export class TokenRefreshModule {
  /** Its settings come from PLUGBOARD_REFRESH_* in the environment; `overrides` (tests) take precedence. */
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>, overrides: Partial<RefreshSettings> = {}): DynamicModule {
    return {
      module: TokenRefreshModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: TOKEN_REFRESH })],
      controllers: [RefreshController, healthController(Subjects.tokenRefresh.health, TOKEN_REFRESH)],
      providers: [
        { provide: REFRESH_SETTINGS, useFactory: () => loadRefreshSettings(process.env, overrides) },
        vaultProvider,
        RefreshMetrics,
        RefreshSchedule,
        Leases,
        serviceDefinitionsProvider,
        OAuthSettingsResolver,
        Refresher,
        RefreshScheduler,
        RefreshScheduleProjection,
        VerifySchedule,
        CredentialChecker,
        VerifyScheduler,
        VerifyScheduleProjection,
        subscriptionsProvider(RefreshScheduleProjection, VerifyScheduleProjection),
        SubscriptionRunner,
      ],
    };
  }
}
