export { RegistryModule, registryEntities, registryMigrations } from './registry.module';
export { ServiceListProjection } from './projections/service-list.projection';
export { ServiceConnectionCountProjection } from './projections/service-connection-count.projection';
export { ServiceRecord } from './read-models/service.record';
export * from './service-definitions';
