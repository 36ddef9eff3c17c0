import type { Server } from 'node:http';

/**
 * Makes an HTTP server stoppable the way a rolling deployment needs. `close()` stops accepting connections,
 * closes idle keep-alive connections at once, lets every request in flight finish (a streamed response to its
 * end), and then closes that request's connection too: Node's own `server.close()` leaves a busy keep-alive
 * connection open, and serving further requests, until its keep-alive timeout.
 */
export function drainable(server: Server): { close(): Promise<void> } {
  let closing = false;
  server.on('request', (req, res) => {
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) req.socket.end();
    });
  });
  return {
    close: () => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    },
  };
}
