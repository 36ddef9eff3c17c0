import { Module, type DynamicModule } from '@nestjs/common';
import { ConnectionListProjection, ConnectionsModule, connectionsEntities, connectionsMigrations, RevokeOnServiceEditSaga } from '@plugboard/connections';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, VaultModule, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';
import { WebhookOutbox, WebhooksModule, webhooksMigrations } from '@plugboard/webhooks';

export const CONNECTION = 'connection';
/** TypeORM runs these by timestamp: the connections' tables, the webhooks' (1731000002200) among them. */
export const connectionMigrations = [...eventStoreMigrations, ...vaultMigrations, ...connectionsMigrations, ...webhooksMigrations];

/** The connection app: it wires the connections and webhooks modules to NATS and runs their log subscribers. */
@Module({})
export class ConnectionModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: ConnectionModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: CONNECTION, entities: connectionsEntities }), VaultModule, ConnectionsModule, WebhooksModule],
      controllers: [healthController(Subjects.connection.health, CONNECTION)],
      providers: [subscriptionsProvider(ConnectionListProjection, RevokeOnServiceEditSaga, WebhookOutbox), SubscriptionRunner],
    };
  }
}
