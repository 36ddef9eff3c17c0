import { createServer } from 'node:http';
import { registry } from '@plugboard/metrics';

export interface HealthServer {
  port: number;
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

export const HEALTH_PATHS = { live: '/health/live', ready: '/health/ready', metrics: '/metrics' } as const;

/**
 * Probes for an orchestrator, on a port of their own (HEALTH_PORT) since most apps speak NATS only:
 * `/health/live` answers 200 while the process turns its event loop; `/health/ready` answers 200 from the end of
 * the start until the stop begins, 503 before and after, so a rollout waits for it and traffic leaves it first.
 * `/metrics` is the app's Prometheus text (an internal port: no key asked).
 */
export async function startHealthServer(port: number): Promise<HealthServer> {
  let ready = false;
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === HEALTH_PATHS.metrics) return void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    const status = path === HEALTH_PATHS.live ? 200 : path === HEALTH_PATHS.ready ? (ready ? 200 : 503) : 404;
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ status: status === 200 ? 'ok' : status === 503 ? 'unavailable' : 'not_found' }));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '0.0.0.0', resolve));
  return {
    port: (server.address() as { port: number }).port,
    setReady: (value) => (ready = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
