import 'reflect-metadata';
import { runApp, startMicroservice } from '@plugboard/runtime';
import { TOKEN_REFRESH, TokenRefreshModule, tokenRefreshMigrations } from './token-refresh.module';

void runApp({
  name: TOKEN_REFRESH,
  migrations: tokenRefreshMigrations,
  // The credentials it refreshes are in the vault.
  required: ['NATS_URL', 'PLUGBOARD_MASTER_KEY'],
  start: (config, logger) => startMicroservice(TokenRefreshModule.register({ config, logger }), TOKEN_REFRESH, config, logger),
});
