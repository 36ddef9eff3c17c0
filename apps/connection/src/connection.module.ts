import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, VaultModule, type PlatformOptions } from '@plugboard/runtime';
import { serviceAuthProvider } from '@plugboard/service-auth';
import { vaultMigrations } from '@plugboard/vault';
import { WebhookOutbox, WebhooksModule, webhooksMigrations } from '@plugboard/webhooks';
import { AuthorizeConnectionHandler } from './handlers/authorize-connection.handler';
import { ConnectLinkHandler } from './handlers/connect-link.handler';
import { ConnectionAuthorizer } from './flows/connection-authorizer';
import { ConnectLinks } from './flows/connect-links';
import { CreateConnectLinks1731000002400 } from './migrations/1731000002400-create-connect-links';
import { ChangeConnectionHandler } from './handlers/change-connection.handler';
import { CreateConnectionHandler } from './handlers/create-connection.handler';
import { GetConnectionHandler } from './handlers/get-connection.handler';
import { CreateConnections1731000002000 } from './migrations/1731000002000-create-connections';
import { CreateOAuthAuthorizations1731000002100 } from './migrations/1731000002100-create-oauth-authorizations';
import { CredentialRecorder } from './flows/credential-recorder';
import { CredentialVerifier } from './flows/credential-verifier';
import { OAuthFlows } from './flows/oauth.flows';
import { ProviderRevoker } from './flows/provider-revoker';
import { ConnectionListProjection } from './projections/connection-list.projection';
import { ConnectionRecord, CredentialRecord } from './read-models/connection.record';
import { ConnectionReader } from './read-models/connection.reader';
import { ServiceLookup } from './read-models/service.lookup';
import { RevokeOnServiceEditSaga } from './sagas/revoke-on-service-edit.saga';
import { CredentialProviderState1731000002300 } from './migrations/1731000002300-credential-provider-state';
import { CreateConnectionHealth1731000002500 } from './migrations/1731000002500-create-connection-health';
import { ConnectionHealthMonitor } from './health/connection-health.monitor';

export const CONNECTION = 'connection';
export const connectionMigrations = [...eventStoreMigrations, ...vaultMigrations, CreateConnections1731000002000, CreateOAuthAuthorizations1731000002100, ...webhooksMigrations, CredentialProviderState1731000002300, CreateConnectLinks1731000002400, CreateConnectionHealth1731000002500];

/** The connection app: connection streams, their credentials in the vault, and the revocation saga. */
@Module({})
export class ConnectionModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: ConnectionModule,
      imports: [
        PlatformModule.forRoot({ ...platform, appName: CONNECTION, entities: [ConnectionRecord, CredentialRecord] }),
        TypeOrmModule.forFeature([ConnectionRecord, CredentialRecord]),
        VaultModule,
        WebhooksModule,
      ],
      controllers: [CreateConnectionHandler, GetConnectionHandler, ChangeConnectionHandler, AuthorizeConnectionHandler, ConnectLinkHandler, healthController(Subjects.connection.health, CONNECTION)],
      providers: [
        ConnectionReader,
        ServiceLookup,
        serviceAuthProvider,
        CredentialRecorder,
        CredentialVerifier,
        OAuthFlows,
        ConnectionAuthorizer,
        ConnectLinks,
        ProviderRevoker,
        ConnectionListProjection,
        RevokeOnServiceEditSaga,
        subscriptionsProvider(ConnectionListProjection, RevokeOnServiceEditSaga, WebhookOutbox),
        SubscriptionRunner,
        ConnectionHealthMonitor,
      ],
    };
  }
}
