import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { EventLogNotifier, EventStore } from '@plugboard/event-store';
import { createClientTransport, RPC_DEADLINES, RPC_TRANSPORT_CLIENT, RpcClient, rpcDeadlines, type BusClient } from '@plugboard/messaging';
import { EgressPolicy } from '@plugboard/outbound';
import type { PlatformConfig } from './config';
import { dataSourceOptions } from './database';

export const PLATFORM_CONFIG = Symbol('PLATFORM_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const APP_NAME = Symbol('APP_NAME');

export interface PlatformOptions {
  appName: string;
  config: PlatformConfig;
  logger: Logger;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
}

@Injectable()
class PlatformShutdown implements OnApplicationShutdown {
  constructor(
    private readonly notifier: EventLogNotifier,
    @Inject(RPC_TRANSPORT_CLIENT) private readonly client: BusClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.notifier.stop();
    await this.client.close();
  }
}

/**
 * What every app stands on: its configuration and logger, the database (TypeORM), the event store with its
 * notifier, and a typed RPC client to the other apps over the configured transport.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config } = options;
    return {
      module: PlatformModule,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions({ url: config.DATABASE_URL, entities: options.entities, poolSize: config.DATABASE_POOL_SIZE, applicationName: `plugboard-${options.appName}` }),
        }),
      ],
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: LOGGER, useValue: options.logger },
        { provide: APP_NAME, useValue: options.appName },
        {
          provide: EventLogNotifier,
          useFactory: async () => {
            const notifier = new EventLogNotifier(config.DATABASE_URL);
            await notifier.start();
            return notifier;
          },
        },
        { provide: EventStore, useFactory: (dataSource: DataSource, notifier: EventLogNotifier) => new EventStore(dataSource, notifier), inject: [DataSource, EventLogNotifier] },
        {
          provide: RPC_TRANSPORT_CLIENT,
          useFactory: () => createClientTransport({ natsUrl: config.NATS_URL, natsUser: config.NATS_USER, natsPassword: config.NATS_PASSWORD, namespace: config.PLUGBOARD_NAMESPACE, appName: options.appName }),
        },
        // The one egress policy of the process: every outbound call a module makes goes through it.
        { provide: EgressPolicy, useFactory: () => EgressPolicy.fromConfig(config) },
        // Every bus deadline follows from the timeouts of the outbound calls the answering app may make.
        { provide: RPC_DEADLINES, useFactory: (egress: EgressPolicy) => rpcDeadlines(egress.timeouts), inject: [EgressPolicy] },
        RpcClient,
        PlatformShutdown,
      ],
      exports: [PLATFORM_CONFIG, LOGGER, APP_NAME, EventLogNotifier, EventStore, EgressPolicy, RpcClient, RPC_TRANSPORT_CLIENT, RPC_DEADLINES],
    };
  }
}
