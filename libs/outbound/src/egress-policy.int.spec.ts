import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { request as undiciRequest } from 'undici';
import { getAccessToken, getRequestToken, OAuth1Error } from '@plugboard/oauth1';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { EgressPolicy, type Resolver } from './egress-policy';

const timeouts = { invokeMs: 2000, webhookMs: 2000, oauthMs: 2000, verificationMs: 2000, signInMs: 2000 };
const consumer = { key: 'plugboard-consumer', secret: 'CONSUMER-SECRET-e9' };

/** A resolver the test controls: each name's answers in turn (the last one repeats), and who asked. */
function resolverOf(answers: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const served = new Map<string, number>();
  const resolve = ((hostname, _options, callback) => {
    asked.push(hostname);
    const list = answers[hostname];
    if (!list) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const turn = served.get(hostname) ?? 0;
    served.set(hostname, turn + 1);
    const address = list[Math.min(turn, list.length - 1)];
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 } as LookupAddress]);
  }) as Resolver & { asked: string[] };
  resolve.asked = asked;
  return resolve;
}

/** Something inside the deployment, on 127.0.0.2: it counts every TCP connection, so nothing reaches it unseen. */
async function internalListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 18\r\nconnection: close\r\n\r\nINTERNAL-ONLY-DATA'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the egress policy', () => {
  let internal: Awaited<ReturnType<typeof internalListener>>;
  let redirector: Server;
  let redirectorUrl: string;
  beforeAll(async () => {
    internal = await internalListener();
    // An allowed host (127.0.0.1) that points every caller at the internal one.
    redirector = createHttpServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.2:${internal.port}/admin` }).end('moved'));
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await internal.close();
    redirector.closeAllConnections();
    await new Promise((resolve) => redirector.close(resolve));
  });

  it('refuses a name that resolves to a private address when the socket connects (DNS rebinding), on fetch and node:http alike', async () => {
    // Public when a check before the call would have asked, private when the connection asks.
    const resolve = resolverOf({ 'api.rebind.test': ['93.184.216.34', '127.0.0.2'], 'other.rebind.test': ['127.0.0.2'] });
    const policy = new EgressPolicy({ allowHosts: ['127.0.0.1'], timeouts, resolve });
    resolve(`api.rebind.test`, { all: true }, () => undefined);
    await expect(policy.fetch(`https://api.rebind.test:${internal.port}/token`, { method: 'POST', body: 'a=1' })).rejects.toMatchObject({ code: 'EPRIVATE', message: 'api.rebind.test resolves to a private or local address; Plugboard does not call it.' });
    const refused = await new Promise<NodeJS.ErrnoException>((done) => {
      const req = policy.request(new URL(`https://other.rebind.test:${internal.port}/hook`), { method: 'POST' }, () => done(new Error('answered')));
      req.on('error', done);
      req.end('{}');
    });
    expect(refused).toMatchObject({ code: 'EPRIVATE' });
    expect(resolve.asked).toEqual(['api.rebind.test', 'api.rebind.test', 'other.rebind.test']);
    expect(internal.connections()).toBe(0);
  });

  it('refuses private addresses written out and plain http, unless the operator allows the host, address or network', async () => {
    const strict = new EgressPolicy({ allowHosts: [], timeouts });
    await expect(strict.fetch(`https://127.0.0.2:${internal.port}/`)).rejects.toMatchObject({ code: 'EPRIVATE' });
    await expect(strict.fetch(`https://[::ffff:127.0.0.2]:${internal.port}/`)).rejects.toMatchObject({ code: 'EPRIVATE' });
    await expect(strict.fetch('http://api.example.com/')).rejects.toMatchObject({ code: 'EINSECURE' });
    expect(() => strict.request(new URL(`https://169.254.169.254/latest/meta-data`), {})).toThrow(expect.objectContaining({ code: 'EPRIVATE' }));
    expect(() => strict.check(new URL('https://10.0.0.5/'))).toThrow(expect.objectContaining({ code: 'private_address' }));
    expect(() => strict.check(new URL('ftp://api.example.com/'))).toThrow(expect.objectContaining({ code: 'host_not_allowed' }));
    expect(internal.connections()).toBe(0);

    const network = new EgressPolicy({ allowHosts: ['127.0.0.0/30'], timeouts });
    expect(network.allows('127.0.0.2')).toBe(true);
    expect(network.allows('127.0.0.9')).toBe(false);
    const answer = await network.fetch(`http://127.0.0.2:${internal.port}/`);
    expect(await answer.text()).toBe('INTERNAL-ONLY-DATA');
    expect(internal.connections()).toBe(1);
  });

  it('gives pools of their own (the call pipeline\'s) the same connect-time checks: rebinding and private addresses written out', async () => {
    const resolve = resolverOf({ 'api.rebind.test': ['127.0.0.2'] });
    const pool = new EgressPolicy({ allowHosts: [], timeouts, resolve }).poolFor(2000);
    const before = internal.connections();
    try {
      await expect(undiciRequest(`http://api.rebind.test:${internal.port}/`, { dispatcher: pool })).rejects.toMatchObject({ code: 'EPRIVATE' });
      await expect(undiciRequest(`http://127.0.0.2:${internal.port}/`, { dispatcher: pool })).rejects.toMatchObject({ code: 'EPRIVATE' });
      expect(internal.connections()).toBe(before);
    } finally {
      await pool.close();
    }
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    const policy = new EgressPolicy({ allowHosts: ['127.0.0.1'], timeouts });
    const before = internal.connections();
    const answer = await policy.fetch(`${redirectorUrl}/token`, { method: 'POST', body: 'grant_type=refresh_token', redirect: 'follow' });
    expect(answer.status).toBe(307);
    expect(answer.headers.get('location')).toBe(`http://127.0.0.2:${internal.port}/admin`);
    expect(internal.connections()).toBe(before);
  });

  it('keeps OAuth 1.0a token calls off a provider’s redirect into the deployment, and the answer there out of the error', async () => {
    const provider = new OAuth1Provider({ consumers: [consumer], redirectTokenCallsTo: `http://127.0.0.2:${internal.port}` });
    const { baseUrl } = await provider.start();
    const policy = new EgressPolicy({ allowHosts: ['127.0.0.1'], timeouts });
    const before = internal.connections();
    try {
      const requestToken = getRequestToken({ requestTokenUrl: `${baseUrl}/oauth/request_token`, consumer, callbackUrl: 'https://plugboard.test/cb', signatureMethod: 'HMAC-SHA1', fetch: policy.fetch });
      await expect(requestToken).rejects.toMatchObject({ code: 'provider_refused', status: 307, problem: null });
      const accessToken = getAccessToken({ accessTokenUrl: `${baseUrl}/oauth/access_token`, consumer, requestToken: { key: 'rt', secret: 'RT-SECRET' }, verifier: 'v', signatureMethod: 'HMAC-SHA1', fetch: policy.fetch });
      await expect(accessToken).rejects.toBeInstanceOf(OAuth1Error);
      expect(provider.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /oauth/request_token 307', 'POST /oauth/access_token 307']);
      expect(internal.connections()).toBe(before);

      // A provider whose own name resolves inside the deployment is refused before anything is sent.
      const rebinding = new EgressPolicy({ allowHosts: [], timeouts, resolve: resolverOf({ 'oauth.rebind.test': ['127.0.0.1'] }) });
      const port = new URL(baseUrl).port;
      const refused = getRequestToken({ requestTokenUrl: `https://oauth.rebind.test:${port}/oauth/request_token`, consumer, signatureMethod: 'HMAC-SHA1', fetch: rebinding.fetch });
      await expect(refused).rejects.toMatchObject({ code: 'address_refused', message: 'request token: oauth.rebind.test resolves to a private or local address; Plugboard does not call it.' });
      expect(provider.requests).toHaveLength(2);
    } finally {
      await provider.stop();
    }
  });

  it('is built once per configuration', () => {
    const config = { PLUGBOARD_INVOKE_ALLOW_HOSTS: ['127.0.0.1'], PLUGBOARD_INVOKE_TIMEOUT_MS: 30_000, PLUGBOARD_WEBHOOK_TIMEOUT_MS: 10_000 };
    const policy = EgressPolicy.fromConfig(config);
    expect(EgressPolicy.fromConfig(config)).toBe(policy);
    expect(policy.timeouts).toEqual({ invokeMs: 30_000, webhookMs: 10_000, oauthMs: 10_000, verificationMs: 10_000, signInMs: 10_000 });
    expect(policy.redirects).toBe('never');
  });
});
