// Test helper: a tiny HTTP server on 127.0.0.1 whose answers the test scripts (503 + Retry-After, a hang, HTML).
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface StubHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests received so far, in order. */
  requests: StubRequest[];
  stop(): Promise<void>;
}

export type StubHandler = (req: StubRequest, res: ServerResponse) => void | Promise<void>;

/** Starts the server; `handler` answers each request (after its body was read). A handler that never ends the response simulates a hang. */
export async function startStubHttpServer(handler: StubHandler): Promise<StubHttpServer> {
  const requests: StubRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: StubRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      Promise.resolve(handler(request, res)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
