import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { accessMigrations, ApiKeys, SignInLinks, VERIFIED_KEY_CACHE_MS } from '@plugboard/access';
import { eventStoreMigrations } from '@plugboard/event-store';
import { IntegrationEventsPublisher } from '@plugboard/messaging';
import { LOGGER, PLATFORM_CONFIG, PlatformModule, SubscriptionRunner, type PlatformConfig, type PlatformOptions } from '@plugboard/runtime';
import { ConsoleRoutes } from './console/console.routes';
import { DashboardRoutes, dashboardProviders } from './dashboard';
import { ApiKeyGuard } from './http/auth';
import { HttpErrorFilter } from './http/http-error.filter';
import { ConnectionsRoutes } from './routes/connections.routes';
import { HealthRoutes } from './routes/health.routes';
import { MetricsRoutes } from './routes/metrics.routes';
import { InvokeRoutes } from './routes/invoke.routes';
import { OAuthCallbackRoutes } from './routes/oauth-callback.routes';
import { ServicesRoutes } from './routes/services.routes';
import { WebhookRoutes } from './routes/webhook.routes';
import { EventsRoutes } from './routes/events.routes';
import { KeysRoutes } from './routes/keys.routes';
import { ConnectLinksRoutes } from './routes/connect-links.routes';
import { BROWSER_BINDING, BrowserBinding } from './session/browser-binding';
import { SessionRoutes } from './session/session.routes';
import { McpRoutes, ProtectedResourceRoutes } from './mcp';
import { PlugboardGrpc } from './grpc/plugboard.grpc';
import { CreateIdempotencyKeys1731000005000 } from './idempotency/1731000005000-create-idempotency-keys';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor, IdempotentCommands } from './idempotency/idempotency.interceptor';
import { IdempotencyStore } from './idempotency/idempotency.store';
import { BusApiResponder } from './bus-api/bus-api.responder';

export const GATEWAY = 'gateway';
export const gatewayMigrations = [...eventStoreMigrations, ...accessMigrations, CreateIdempotencyKeys1731000005000];

/** With NATS configured, the gateway relays every logged event to `<namespace>.events.<Type>` for other products. */
@Injectable()
class IntegrationEventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private publisher?: IntegrationEventsPublisher;

  constructor(
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    private readonly runner: SubscriptionRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.NATS_URL) return;
    this.publisher = new IntegrationEventsPublisher({ natsUrl: this.config.NATS_URL, natsUser: this.config.NATS_USER, natsPassword: this.config.NATS_PASSWORD, namespace: this.config.PLUGBOARD_NAMESPACE, appName: GATEWAY });
    await this.publisher.start();
    await this.runner.add(this.publisher.handler());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher?.stop();
  }
}

/** The HTTP face of Plugboard: authentication, routes that call the apps over the bus, errors as JSON. */
@Module({})
export class GatewayModule {
  static register(platform: Omit<PlatformOptions, 'appName' | 'entities'>): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot({ ...platform, appName: GATEWAY })],
      controllers: [HealthRoutes, MetricsRoutes, ServicesRoutes, ConnectionsRoutes, OAuthCallbackRoutes, InvokeRoutes, WebhookRoutes, EventsRoutes, DashboardRoutes, KeysRoutes, SessionRoutes, ConnectLinksRoutes, PlugboardGrpc, McpRoutes, ProtectedResourceRoutes, ConsoleRoutes],
      providers: [
        { provide: ApiKeys, useFactory: (dataSource: DataSource) => new ApiKeys(dataSource, VERIFIED_KEY_CACHE_MS), inject: [DataSource] },
        { provide: SignInLinks, useFactory: (dataSource: DataSource) => new SignInLinks(dataSource), inject: [DataSource] },
        { provide: BROWSER_BINDING, useFactory: (config: PlatformConfig) => BrowserBinding.fromConfig(config), inject: [PLATFORM_CONFIG] },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useFactory: (logger: Logger) => new HttpErrorFilter(logger), inject: [LOGGER] },
        { provide: IDEMPOTENCY_STORE, useFactory: (dataSource: DataSource) => new IdempotencyStore(dataSource), inject: [DataSource] },
        IdempotentCommands,
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        SubscriptionRunner,
        IntegrationEventsRelay,
        BusApiResponder,
        ...dashboardProviders,
      ],
    };
  }
}
