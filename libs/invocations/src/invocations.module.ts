import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeys, VERIFIED_KEY_CACHE_MS } from '@plugboard/access';
import { ConnectionCredentialsModule } from '@plugboard/connections';
import { InvokeHandler } from './handlers/invoke.handler';
import { InvocationLog } from './invocation-log';
import { InvokeService } from './invoke.service';
import { InvokeSettings } from './invoke-settings';
import { CreateInvocations1731000003000 } from './migrations/1731000003000-create-invocations';
import { AddInvocationEntry1731000003100 } from './migrations/1731000003100-add-invocation-entry';
import { CallPipeline } from './pipeline/call-pipeline';
import { ProxyHandler } from './proxy/proxy.handler';

/** The tables this module owns, for the app that runs it to list among its migrations (names and timestamps as deployed). */
export const invocationsMigrations = [CreateInvocations1731000003000, AddInvocationEntry1731000003100];

/**
 * Calls through a connection's link name: the one call pipeline behind `plugboard.invoke.request` (its bus handler
 * here) and the `/v1/proxy` listener (`ProxyHandler`, exported for the HTTP server that mounts it), and the
 * `invocations` log they write. It resolves credentials through the connections module's `ConnectionCredentials`
 * port and stands on the app's PlatformModule (event store, database, configuration, egress policy).
 */
@Module({
  imports: [ConnectionCredentialsModule],
  controllers: [InvokeHandler],
  providers: [
    InvokeSettings,
    InvocationLog,
    CallPipeline,
    InvokeService,
    ProxyHandler,
    // /v1/proxy authenticates its callers itself, with the gateway's API keys.
    { provide: ApiKeys, useFactory: (dataSource: DataSource) => new ApiKeys(dataSource, VERIFIED_KEY_CACHE_MS), inject: [DataSource] },
  ],
  exports: [ProxyHandler],
})
export class InvocationsModule {}
