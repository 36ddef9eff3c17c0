import { Module, type DynamicModule } from '@nestjs/common';
import { Subjects } from '@plugboard/contracts';
import { eventStoreMigrations } from '@plugboard/event-store';
import { RegistryModule, registryEntities, registryMigrations, ServiceConnectionCountProjection, ServiceListProjection } from '@plugboard/registry';
import { healthController, PlatformModule, SubscriptionRunner, subscriptionsProvider, type PlatformOptions } from '@plugboard/runtime';
import { vaultMigrations } from '@plugboard/vault';

export const SERVICE_REGISTRY = 'service-registry';
export const serviceRegistryMigrations = [...eventStoreMigrations, ...vaultMigrations, ...registryMigrations];

/** The registry process: RegistryModule on the bus, with its projections run (or, inline, taken over) by the app's one SubscriptionRunner. */
@Module({})
export class ServiceRegistryModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: ServiceRegistryModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: SERVICE_REGISTRY, entities: registryEntities }), RegistryModule],
      controllers: [healthController(Subjects.registry.health, SERVICE_REGISTRY)],
      providers: [subscriptionsProvider(ServiceListProjection, ServiceConnectionCountProjection), SubscriptionRunner],
    };
  }
}
