import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Request } from 'express';
import pinoHttp from 'pino-http';
import { ErrorCodes, HTTP_STATUS } from '@plugboard/contracts';
import { httpRequests } from '@plugboard/metrics';
import type { Logger } from 'pino';
import { answerClientError, assignRequestId, NestPinoLogger, refuseBadRequestTarget, type PlatformConfig } from '@plugboard/runtime';
import { GatewayModule } from './gateway.module';
import { jsonBody, jsonBodyErrors } from './http/json-body';
import { buildOpenApiDocument } from './http/openapi';
import { buildAsyncApiDocument } from './bus-api/asyncapi';
import { forwardTo } from './http/proxy-forward';
import { startGrpc } from './grpc/grpc-server';

/** Duration by route template (never the raw path: link names would make the series unbounded). */
function measureRequests(req: Request, res: ServerResponse, next: () => void): void {
  const stop = httpRequests.startTimer({ method: req.method });
  res.on('finish', () => stop({ route: req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched', status: String(res.statusCode) }));
  next();
}

/** Connect-link tokens travel in paths (the API's and the console page's): logged paths show where, never which. */
export function withoutTokens(path: string): string {
  return path.replace(/^(\/v1\/connect-links|\/console\/connect)\/[^/]+/, '$1/:token');
}

const proxyElsewhere: RequestListener = (_req, res) => {
  const error = { code: ErrorCodes.notFound, message: 'This gateway does not serve /v1/proxy: call the invoke-proxy app, or set PLUGBOARD_INVOKE_PROXY_URL on the gateway.' };
  res.writeHead(HTTP_STATUS[error.code], { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
};

/**
 * Starts the gateway's HTTP server on `config.PORT` (0 picks a free port: see `app.getUrl()`). `/v1/proxy` goes to
 * `proxy` when the invoke proxy runs in this process (embedded), else to PLUGBOARD_INVOKE_PROXY_URL.
 */
export async function startGateway(config: PlatformConfig, logger: Logger, proxy?: RequestListener): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.register({ config, logger }), {
    bodyParser: false,
    logger: new NestPinoLogger(logger),
  });
  app.disable('x-powered-by');
  const passthrough = proxy ?? (config.PLUGBOARD_INVOKE_PROXY_URL ? forwardTo(config.PLUGBOARD_INVOKE_PROXY_URL) : proxyElsewhere);
  // Ahead of Express (its routing costs more than a proxied call's own work): the body streams through untouched,
  // the proxy authenticates by itself, and the invocation log records the call.
  const server = app.getHttpServer() as Server;
  const [express] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  // Bad bytes in a path or query are refused here, once, for every route; the proxy's calls get their request id here
  // too, since they never reach pino-http.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (refuseBadRequestTarget(req, res)) return;
    if (!req.url?.startsWith('/v1/proxy/')) return express(req, res);
    assignRequestId(req, res);
    passthrough(req, res);
  });
  server.on('clientError', answerClientError);
  app.use(measureRequests);
  app.use(
    pinoHttp({
      logger,
      autoLogging: { ignore: (req) => req.url === '/health' },
      genReqId: assignRequestId,
      // Method and path only: query values (an OAuth code, a state, a token someone put in a URL) and headers can be secrets.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: withoutTokens(String(req.url).split('?')[0]) }),
        // The status only: response headers carry Set-Cookie (the dashboard's session).
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(...jsonBody(), jsonBodyErrors);
  const version = process.env.npm_package_version ?? '0.1.0';
  // The bus API's contract beside the REST one (the OpenAPI description links it), ahead of Swagger's own /docs routes.
  const asyncApi = buildAsyncApiDocument(version, config.PLUGBOARD_NAMESPACE);
  const http = app.getHttpAdapter();
  http.get('/docs/asyncapi.json', (_req, res) => http.reply(res, asyncApi, 200));
  SwaggerModule.setup('docs', app, buildOpenApiDocument(version) as never, { jsonDocumentUrl: 'docs/openapi.json' });
  if (config.GRPC_PORT) await startGrpc(app, config.GRPC_PORT, logger);
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ url: await app.getUrl() }, 'gateway is listening');
  return app;
}
