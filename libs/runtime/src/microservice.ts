import { Controller, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { HealthReply } from '@plugboard/contracts';
import { createServerTransport, RpcErrorFilter } from '@plugboard/messaging';
import type { PlatformConfig } from './config';
import { NestPinoLogger } from './logger';

/** Starts an app as a Nest microservice answering its subjects on the configured transport. */
export async function startMicroservice(module: unknown, appName: string, config: PlatformConfig, logger: Logger): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(module as Type, {
    strategy: createServerTransport({ natsUrl: config.NATS_URL, natsUser: config.NATS_USER, natsPassword: config.NATS_PASSWORD, namespace: config.PLUGBOARD_NAMESPACE, appName }),
    logger: new NestPinoLogger(logger),
    // Nest's default calls process.abort() when a provider fails to build; rethrown, the failure (a wrong master key,
    // say) reaches the caller, which stops what it started and says why.
    abortOnError: false,
  });
  app.useGlobalFilters(new RpcErrorFilter((error, context) => logger.error({ err: error, ...context }, 'message handler failed')));
  await app.listen();
  logger.info({ transport: config.NATS_URL ? 'nats' : 'in-process' }, `${appName} is listening`);
  return app;
}

/** The controller that answers an app's health subject, so the gateway's /health can see it over the bus. */
export function healthController(subject: string, appName: string): Type {
  @Controller()
  class HealthController {
    @MessagePattern(subject)
    health(): HealthReply {
      return { app: appName, status: 'ok' };
    }
  }
  return HealthController;
}
