import 'reflect-metadata';
import { drainable, runApp } from '@plugboard/runtime';
import { GATEWAY, gatewayMigrations } from './gateway.module';
import { startGateway } from './start-gateway';

void runApp({
  name: GATEWAY,
  migrations: gatewayMigrations,
  required: ['NATS_URL'],
  start: async (config, logger) => {
    const app = await startGateway(config, logger);
    // Requests in flight finish (and their keep-alive connections close) before the routes lose the bus.
    const http = drainable(app.getHttpServer());
    return {
      close: async () => {
        await http.close();
        await app.close();
      },
    };
  },
});
