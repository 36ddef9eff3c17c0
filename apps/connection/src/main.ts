import 'reflect-metadata';
import { runApp, startMicroservice } from '@plugboard/runtime';
import { CONNECTION, ConnectionModule, connectionMigrations } from './connection.module';

void runApp({
  name: CONNECTION,
  migrations: connectionMigrations,
  required: ['NATS_URL', 'PLUGBOARD_MASTER_KEY'],
  start: (config, logger) => startMicroservice(ConnectionModule.register({ config, logger }), CONNECTION, config, logger),
});
