export { RefreshModule, refreshMigrations } from './refresh.module';
export { RefreshScheduleProjection } from './projections/refresh-schedule.projection';
export { VerifyScheduleProjection } from './projections/verify-schedule.projection';
export { dueAt } from './refresh/refresh-policy';
export { EXPIRING_WITHIN_MINUTES, RefreshQueries, type ExpiringCredential } from './refresh-queries';
