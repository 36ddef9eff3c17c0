export * from './service-registry.module';
export { ServiceListProjection } from './projections/service-list.projection';
export { ServiceRecord } from './read-models/service.record';
