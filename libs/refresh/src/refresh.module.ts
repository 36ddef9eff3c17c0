import { Module, type DynamicModule } from '@nestjs/common';
import { serviceDefinitionsProvider } from '@plugboard/registry';
import { VaultModule } from '@plugboard/runtime';
import { RefreshController } from './handlers/refresh.controller';
import { CreateRefreshTables1731000004000 } from './migrations/1731000004000-create-refresh-tables';
import { CreateVerifySchedule1731000004100 } from './migrations/1731000004100-create-verify-schedule';
import { RefreshScheduleProjection } from './projections/refresh-schedule.projection';
import { VerifyScheduleProjection } from './projections/verify-schedule.projection';
import { Leases } from './refresh/leases';
import { OAuthSettingsResolver } from './refresh/oauth-settings.resolver';
import { RefreshMetrics } from './refresh/refresh-metrics';
import { RefreshSchedule } from './refresh/refresh-schedule';
import { RefreshScheduler } from './refresh/refresh-scheduler';
import { loadRefreshSettings, REFRESH_SETTINGS, type RefreshSettings } from './refresh/refresh-settings';
import { Refresher } from './refresh/refresher';
import { CredentialChecker } from './verify/credential-checker';
import { VerifySchedule } from './verify/verify-schedule';
import { VerifyScheduler } from './verify/verify-scheduler';

/** The tables this module owns, for the app that runs it to list among its migrations (names and timestamps as deployed). */
export const refreshMigrations = [CreateRefreshTables1731000004000, CreateVerifySchedule1731000004100];

/**
 * Token refresh and scheduled verification: OAuth 2 credentials kept fresh before they expire (the refresh scheduler,
 * from the schedule its projection keeps) and on demand (`tokenRefresh.refresh`), one refresh per credential at a time
 * across replicas; credentials that never expire re-checked with their service's verification call. Every result is
 * a command of the connection decider, sent through `connectionCommands`. It stands on the app's PlatformModule (event
 * store, database, configuration, egress policy); its two projections are exported for the app's one SubscriptionRunner.
 */
@Module({})
export class RefreshModule {
  /** Its settings come from PLUGBOARD_REFRESH_* in the environment; `overrides` (tests) take precedence. */
  static register(overrides: Partial<RefreshSettings> = {}): DynamicModule {
    return {
      module: RefreshModule,
      imports: [VaultModule],
      controllers: [RefreshController],
      providers: [
        { provide: REFRESH_SETTINGS, useFactory: () => loadRefreshSettings(process.env, overrides) },
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
      ],
      exports: [RefreshScheduleProjection, VerifyScheduleProjection],
    };
  }
}
