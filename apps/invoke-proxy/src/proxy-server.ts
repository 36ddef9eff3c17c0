import { createServer } from 'node:http';
import type { INestMicroservice } from '@nestjs/common';
import type { Logger } from 'pino';
import { answerClientError, assignRequestId, drainable, refuseBadRequestTarget, type PlatformConfig } from '@plugboard/runtime';
import { ProxyHandler } from '@plugboard/invocations';

/**
 * In distributed mode the invoke proxy serves /v1/proxy on its own HTTP port: the gateway forwards there
 * (PLUGBOARD_INVOKE_PROXY_URL), or an ingress routes /v1/proxy straight to it and saves a hop.
 */
export async function startProxyServer(app: INestMicroservice, config: PlatformConfig, logger: Logger): Promise<{ close(): Promise<void> }> {
  const proxy = app.get(ProxyHandler);
  const server = createServer((req, res) => {
    // The same refusals as the gateway's, for an ingress that routes /v1/proxy here directly.
    if (refuseBadRequestTarget(req, res)) return;
    if (req.url?.startsWith('/v1/proxy/')) {
      assignRequestId(req, res);
      return proxy.listener(req, res);
    }
    if (req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"The invoke proxy answers /v1/proxy/{link name}/… only."}}');
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout, so they never reuse a closed socket
  const http = drainable(server);
  await new Promise<void>((resolve) => server.listen(config.PORT, '0.0.0.0', resolve));
  logger.info({ port: (server.address() as { port: number }).port }, 'invoke proxy is listening for /v1/proxy');
  return {
    // Calls in flight, streams included, finish before the app below them (NATS, database) closes.
    close: async () => {
      await http.close();
      await app.close();
    },
  };
}
