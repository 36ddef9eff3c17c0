import 'reflect-metadata';
import { runApp, startMicroservice } from '@plugboard/runtime';
import { INVOKE_PROXY, InvokeProxyModule, invokeProxyMigrations } from './invoke-proxy.module';
import { startProxyServer } from './proxy-server';

void runApp({
  name: INVOKE_PROXY,
  migrations: invokeProxyMigrations,
  required: ['NATS_URL', 'PLUGBOARD_MASTER_KEY'],
  start: async (config, logger) => startProxyServer(await startMicroservice(InvokeProxyModule.register({ config, logger }), INVOKE_PROXY, config, logger), config, logger),
});
