export * from './service-registry.module';
