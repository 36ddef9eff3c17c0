import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Seen {
  method: string;
  /** The request target exactly as received. */
  target: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Upstream {
  server: Server;
  base: string;
  /** Every request it answered, in order (bodies of /upload are not kept). */
  seen: Seen[];
  /** Access tokens (header or query) it answers 401 to, as an API does once a token expired. */
  rejectedTokens: Set<string>;
  /** API keys (X-Api-Key) `/verify` answers 401 to, as a service's verification call does once the key was revoked; other paths still take them. */
  refusedAtVerify: Set<string>;
  /** Resolves when /upload has received its first bytes. */
  uploadStarted(): Promise<void>;
  /** Lets /drip send the rest of its answer. */
  releaseDrip(): void;
  close(): Promise<void>;
}

/**
 * A local API that records exactly what it received, and can misbehave on request:
 * `/slow` never answers, `/verify` refuses the keys in `refusedAtVerify`, `/redirect` points at the metadata address, `/unauthorized` is always 401,
 * `/flaky?id=&fail=n&status=&retryAfter=` is busy n times, `/upload` hashes a streamed body, `/download?bytes=n` streams n bytes, `/drip` sends half its answer and waits.
 */
export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = [];
  const rejectedTokens = new Set<string>();
  const refusedAtVerify = new Set<string>();
  const failures = new Map<string, number>();
  let uploadStarted: () => void = () => undefined;
  const uploadStart = new Promise<void>((resolve) => (uploadStarted = resolve));
  let releaseDrip: () => void = () => undefined;
  const drip = new Promise<void>((resolve) => (releaseDrip = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const record = (body: string) => seen.push({ method: req.method ?? '', target: req.url ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });
    if (url.pathname.endsWith('/upload')) {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        if (bytes === 0) uploadStarted();
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        record('');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
      });
      return;
    }
    if (url.pathname.endsWith('/download')) {
      record('');
      let left = Number(url.searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
      const block = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (left > 0) {
          const chunk = block.subarray(0, Math.min(block.length, left));
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.pathname.endsWith('/drip')) {
      record('');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half;');
      void drip.then(() => res.end('second half'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record(Buffer.concat(chunks).toString());
      if (url.pathname === '/slow') return; // never answers
      if (url.pathname === '/flaky') {
        // Busy `fail` times per id, then fine.
        const id = url.searchParams.get('id') ?? '';
        failures.set(id, (failures.get(id) ?? 0) + 1);
        if ((failures.get(id) ?? 0) <= Number(url.searchParams.get('fail') ?? 0)) {
          res.writeHead(Number(url.searchParams.get('status') ?? 503), { 'retry-after': url.searchParams.get('retryAfter') ?? '0' }).end();
          return;
        }
      }
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('access_token');
      if (url.pathname === '/verify' && refusedAtVerify.has(String(req.headers['x-api-key']))) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_key"}');
        return;
      }
      if (url.pathname === '/unauthorized' || (token && rejectedTokens.has(token))) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] }).end(JSON.stringify({ ok: true, path: url.pathname }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    seen,
    rejectedTokens,
    refusedAtVerify,
    uploadStarted: () => uploadStart,
    releaseDrip: () => releaseDrip(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
