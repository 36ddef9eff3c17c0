import 'reflect-metadata';
import { runApp, startMicroservice } from '@plugboard/runtime';
import { SERVICE_REGISTRY, ServiceRegistryModule, serviceRegistryMigrations } from './service-registry.module';

void runApp({
  name: SERVICE_REGISTRY,
  migrations: serviceRegistryMigrations,
  required: ['NATS_URL', 'PLUGBOARD_MASTER_KEY'],
  start: (config, logger) => startMicroservice(ServiceRegistryModule.register({ config, logger }), SERVICE_REGISTRY, config, logger),
});
