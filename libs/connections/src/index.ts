export { ConnectionsModule, connectionsEntities, connectionsMigrations } from './connections.module';
export { connectionCommands } from './connection-commands';
export { ConnectionListProjection } from './projections/connection-list.projection';
export { RevokeOnServiceEditSaga } from './sagas/revoke-on-service-edit.saga';
export { ConnectionRecord, CredentialRecord } from './read-models/connection.record';
