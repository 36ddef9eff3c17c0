export { ConnectionsModule, connectionsEntities, connectionsMigrations } from './connections.module';
export { connectionCommands } from './connection-commands';
export { ConnectionListProjection } from './projections/connection-list.projection';
export { RevokeOnServiceEditSaga } from './sagas/revoke-on-service-edit.saga';
export { ConnectionRecord, CredentialRecord } from './read-models/connection.record';
export { ConnectionCredentials, type InvokeTarget } from './credentials/connection-credentials';
export { ConnectionCredentialsModule } from './credentials/connection-credentials.module';
export { ConnectionQueries, type ConnectionStatus, type DegradedConnection, type RefreshFailure, type Revocation } from './read-models/connection.queries';
