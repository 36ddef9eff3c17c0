import { Module } from '@nestjs/common';
import { serviceDefinitionsProvider } from '@plugboard/registry';
import { VaultModule } from '@plugboard/runtime';
import { ChangeFeedKeeper } from './change-feed-keeper';
import { ConnectionCredentials } from './connection-credentials';

/**
 * The `ConnectionCredentials` port alone, for an app that calls through connections (invoke-proxy) without running
 * the connections module's handlers. It stands on the app's PlatformModule (event store, bus, configuration) and
 * keeps the change feed read while the app runs.
 */
@Module({
  imports: [VaultModule],
  providers: [serviceDefinitionsProvider, ConnectionCredentials, ChangeFeedKeeper],
  exports: [ConnectionCredentials],
})
export class ConnectionCredentialsModule {}
