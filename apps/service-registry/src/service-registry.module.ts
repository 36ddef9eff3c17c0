import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, vaultProvider, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';
import { CreateServiceHandler } from './handlers/create-service.handler';
import { DeleteServiceHandler } from './handlers/delete-service.handler';
import { EditServiceHandler } from './handlers/edit-service.handler';
import { GetServiceHandler } from './handlers/get-service.handler';
import { ServiceClientHandler } from './handlers/service-client.handler';
import { CreateServices1731000001000 } from './migrations/1731000001000-create-services';
import { ServiceListProjection } from './projections/service-list.projection';
import { ServiceRecord } from './read-models/service.record';
import { ServiceClients } from './read-models/service-clients';
import { ServiceReader } from './read-models/service.reader';

export const SERVICE_REGISTRY = 'service-registry';
export const serviceRegistryMigrations = [...eventStoreMigrations, ...vaultMigrations, CreateServices1731000001000];

/** The service registry: custom services' streams, the predefined catalog, and the `services` read model. */
@Module({})
export class ServiceRegistryModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: ServiceRegistryModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: SERVICE_REGISTRY, entities: [ServiceRecord] }), TypeOrmModule.forFeature([ServiceRecord])],
      controllers: [CreateServiceHandler, EditServiceHandler, DeleteServiceHandler, GetServiceHandler, ServiceClientHandler, healthController(Subjects.registry.health, SERVICE_REGISTRY)],
      providers: [
        ServiceReader,
        ServiceClients,
        ServiceListProjection,
        subscriptionsProvider(ServiceListProjection),
        SubscriptionRunner,
        vaultProvider,
      ],
    };
  }
}
