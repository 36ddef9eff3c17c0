export { RefreshModule, refreshMigrations } from './refresh.module';
export { RefreshScheduleProjection } from './projections/refresh-schedule.projection';
export { VerifyScheduleProjection } from './projections/verify-schedule.projection';
export { RefreshMetrics, type RefreshMetricsSnapshot } from './refresh/refresh-metrics';
export { Refresher, type RefreshJob, type RefreshResult } from './refresh/refresher';
export { loadRefreshSettings, type RefreshSettings } from './refresh/refresh-settings';
export { RefreshCredentialRequestSchema } from './handlers/refresh.controller';
export { dueAt } from './refresh/refresh-policy';
export { EXPIRING_WITHIN_MINUTES, RefreshQueries, type ExpiringCredential } from './refresh-queries';
