import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { NestPinoLogger, type PlatformConfig } from '@plugboard/runtime';
import { GatewayModule } from './gateway.module';
import { jsonBody, jsonBodyErrors } from './http/json-body';
import { buildOpenApiDocument } from './http/openapi';

/** Starts the gateway's HTTP server on `config.PORT` (0 picks a free port: see `app.getUrl()`). */
export async function startGateway(config: PlatformConfig, logger: Logger): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.register({ config, logger }), {
    bodyParser: false,
    logger: new NestPinoLogger(logger),
  });
  app.disable('x-powered-by');
  app.use(
    pinoHttp({
      logger,
      autoLogging: { ignore: (req) => req.url === '/health' },
      // Method and path only: query values (an OAuth code, a state, a token someone put in a URL) and headers can be secrets.
      serializers: { req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: String(req.url).split('?')[0] }) },
    }),
  );
  app.use(...jsonBody(), jsonBodyErrors);
  SwaggerModule.setup('docs', app, buildOpenApiDocument(process.env.npm_package_version ?? '0.1.0') as never, { jsonDocumentUrl: 'docs/openapi.json' });
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ url: await app.getUrl() }, 'gateway is listening');
  return app;
}
