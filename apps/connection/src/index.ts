export * from './connection.module';
export { ConnectionListProjection } from './projections/connection-list.projection';
export { ConnectionRecord, CredentialRecord } from './read-models/connection.record';
