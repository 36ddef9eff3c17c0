import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP round-robin balancer in front of replicas, as a Kubernetes Service is in front of ready pods: each new
 * connection goes to the next replica, or the one after if that one refuses (it is down).
 */
export async function startBalancer(ports: number[]): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const attempt = (left: number) => {
      const upstream = connect(ports[next++ % ports.length], '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      let connected = false;
      upstream.once('error', () => (!connected && left > 1 ? attempt(left - 1) : client.destroy()));
      upstream.once('connect', () => {
        connected = true;
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    attempt(ports.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
