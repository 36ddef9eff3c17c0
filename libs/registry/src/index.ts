export { RegistryModule, registryEntities, registryMigrations } from './registry.module';
export { ServiceListProjection } from './projections/service-list.projection';
export { ServiceRecord } from './read-models/service.record';
export { serviceClientCommands, serviceCommands } from './registry.commands';
export * from './service-definitions';
