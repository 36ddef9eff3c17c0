import http from 'node:http';
import { drainable } from './http-drain';

function get(port: number, agent: http.Agent, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('drainable HTTP server', () => {
  it('finishes a streamed response in flight, then closes every connection, keep-alive ones included, long before their timeout', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first ');
        setTimeout(() => res.end('last'), 600);
      } else res.end('quick');
    });
    server.keepAliveTimeout = 60_000;
    const drain = drainable(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect(await get(port, agent)).toEqual({ status: 200, body: 'quick' }); // leaves an idle keep-alive connection
      const slow = get(port, agent, '/slow');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      const closed = drain.close();
      expect(await slow).toEqual({ status: 200, body: 'first last' });
      await closed;
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect(get(port, new http.Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
      server.closeAllConnections();
    }
  });
});
