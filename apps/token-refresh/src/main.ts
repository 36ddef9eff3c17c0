import 'reflect-metadata';
import { runApp, startMicroservice } from '@plugboard/runtime';
import { TOKEN_REFRESH, TokenRefreshModule, tokenRefreshMigrations } from './token-refresh.module';

void runApp({
  name: TOKEN_REFRESH,
  migrations: tokenRefreshMigrations,
  required: ['NATS_URL'],
  start: (config, logger) => startMicroservice(TokenRefreshModule.register({ config, logger }), TOKEN_REFRESH, config, logger),
});
