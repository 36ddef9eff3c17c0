import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { serviceDefinitionsProvider } from '@plugboard/registry';
import { VaultModule } from '@plugboard/runtime';
import { ConnectLinks } from './flows/connect-links';
import { ConnectionAuthorizer } from './flows/connection-authorizer';
import { CredentialRecorder } from './flows/credential-recorder';
import { CredentialVerifier } from './flows/credential-verifier';
import { OAuthFlows } from './flows/oauth.flows';
import { ProviderRevoker } from './flows/provider-revoker';
import { AuthorizeConnectionHandler } from './handlers/authorize-connection.handler';
import { ChangeConnectionHandler } from './handlers/change-connection.handler';
import { ConnectLinkHandler } from './handlers/connect-link.handler';
import { CreateConnectionHandler } from './handlers/create-connection.handler';
import { GetConnectionHandler } from './handlers/get-connection.handler';
import { ConnectionHealthMonitor } from './health/connection-health.monitor';
import { CreateConnections1731000002000 } from './migrations/1731000002000-create-connections';
import { CreateOAuthAuthorizations1731000002100 } from './migrations/1731000002100-create-oauth-authorizations';
import { CredentialProviderState1731000002300 } from './migrations/1731000002300-credential-provider-state';
import { CreateConnectLinks1731000002400 } from './migrations/1731000002400-create-connect-links';
import { CreateConnectionHealth1731000002500 } from './migrations/1731000002500-create-connection-health';
import { ConnectionListProjection } from './projections/connection-list.projection';
import { ConnectionRecord, CredentialRecord } from './read-models/connection.record';
import { ConnectionReader } from './read-models/connection.reader';
import { ServiceLookup } from './read-models/service.lookup';
import { RevokeOnServiceEditSaga } from './sagas/revoke-on-service-edit.saga';

/** The tables this module owns, for the app that runs it to list among its migrations (names and timestamps as deployed). */
export const connectionsMigrations = [CreateConnections1731000002000, CreateOAuthAuthorizations1731000002100, CredentialProviderState1731000002300, CreateConnectLinks1731000002400, CreateConnectionHealth1731000002500];

/** The read model's entities, for the app's PlatformModule (its one TypeORM connection). */
export const connectionsEntities = [ConnectionRecord, CredentialRecord];

/**
 * Connections: the `connection-<orgId>.<linkName>` streams (every write through connectionCommands), their
 * credentials in the vault, the OAuth and connect-link flows, the revocation saga, the health monitor and the
 * `connections` read model, with their handlers on the bus. It stands on the app's PlatformModule (event store,
 * database, configuration, egress policy). Its log subscribers are exported for the app's one SubscriptionRunner.
 */
@Module({
  imports: [TypeOrmModule.forFeature(connectionsEntities), VaultModule],
  controllers: [CreateConnectionHandler, GetConnectionHandler, ChangeConnectionHandler, AuthorizeConnectionHandler, ConnectLinkHandler],
  providers: [
    ConnectionReader,
    ServiceLookup,
    serviceDefinitionsProvider,
    CredentialRecorder,
    CredentialVerifier,
    OAuthFlows,
    ConnectionAuthorizer,
    ConnectLinks,
    ProviderRevoker,
    ConnectionListProjection,
    RevokeOnServiceEditSaga,
    ConnectionHealthMonitor,
  ],
  exports: [ConnectionListProjection, RevokeOnServiceEditSaga],
})
export class ConnectionsModule {}
