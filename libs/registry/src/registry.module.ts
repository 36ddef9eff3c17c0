import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { VaultModule } from '@plugboard/runtime';
import { CreateServiceHandler } from './handlers/create-service.handler';
import { DeleteServiceHandler } from './handlers/delete-service.handler';
import { EditServiceHandler } from './handlers/edit-service.handler';
import { GetServiceHandler } from './handlers/get-service.handler';
import { ServiceClientHandler } from './handlers/service-client.handler';
import { CreateServices1731000001000 } from './migrations/1731000001000-create-services';
import { ServiceConnectionCounts1731000001100 } from './migrations/1731000001100-service-connection-counts';
import { ServiceConnectionCountProjection } from './projections/service-connection-count.projection';
import { ServiceListProjection } from './projections/service-list.projection';
import { ServiceClients } from './read-models/service-clients';
import { ServiceReader } from './read-models/service.reader';
import { ServiceRecord } from './read-models/service.record';

/** The tables this module owns, for the app that runs it to list among its migrations. */
export const registryMigrations = [CreateServices1731000001000, ServiceConnectionCounts1731000001100];

/** The entities of its read model, for the app's PlatformModule. */
export const registryEntities = [ServiceRecord];

/**
 * Services: the `plugboard.registry.*` handlers on the bus (custom services' and predefined services' client streams,
 * their secrets in the vault) and the `services` read model. It stands on the app's PlatformModule (event store,
 * database, configuration). The services read model is written by its commands (inline); the connection counts are
 * a log subscription. Both are exported for the app's one SubscriptionRunner (which takes the inline one over from
 * the subscription an earlier version ran).
 */
@Module({
  imports: [TypeOrmModule.forFeature(registryEntities), VaultModule],
  controllers: [CreateServiceHandler, EditServiceHandler, DeleteServiceHandler, GetServiceHandler, ServiceClientHandler],
  providers: [ServiceReader, ServiceClients, ServiceListProjection, ServiceConnectionCountProjection],
  exports: [ServiceListProjection, ServiceConnectionCountProjection],
})
export class RegistryModule {}
