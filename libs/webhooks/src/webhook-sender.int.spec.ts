import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressPolicy, type Resolver } from '@plugboard/outbound';
import { postWebhook } from './webhook-sender';

const timeouts = { invokeMs: 2000, webhookMs: 2000, oauthMs: 2000, verificationMs: 2000, signInMs: 2000 };

/** A receiver inside the deployment (127.0.0.2, not allowed): it records every delivery that reaches it. */
describe('webhook deliveries under the egress policy', () => {
  let receiver: Server;
  let port: number;
  const received: string[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(`${req.method} ${req.headers.host}${req.url}`);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.2', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => receiver.close(resolve)));

  const send = (url: string, egress: EgressPolicy) => postWebhook(url, '{"id":"e1"}', { 'plugboard-signature': 't=1,v1=x' }, { timeoutMs: 2000, egress });

  it('refuses a private address written out, and a name that resolves to one when the socket connects', async () => {
    const resolve: Resolver = (hostname, _options, callback) => callback(null, [{ address: '127.0.0.2', family: 4 } as LookupAddress]);
    const egress = new EgressPolicy({ allowHosts: ['127.0.0.1'], timeouts, resolve });
    expect(await send(`https://127.0.0.2:${port}/hook`, egress)).toEqual({ ok: false, status: null, error: 'private_address' });
    expect(await send(`https://[::ffff:127.0.0.2]:${port}/hook`, egress)).toEqual({ ok: false, status: null, error: 'private_address' });
    expect(await send(`https://hooks.rebind.test:${port}/hook`, egress)).toEqual({ ok: false, status: null, error: 'private_address' });
    expect(await send(`http://hooks.example.com:${port}/hook`, egress)).toEqual({ ok: false, status: null, error: 'not_allowed' });
    expect(await send(`http://127.0.0.2:${port}/hook`, egress)).toEqual({ ok: false, status: null, error: 'not_allowed' });
    expect(received).toEqual([]);
  });

  it('delivers where the operator allowed the address', async () => {
    const egress = new EgressPolicy({ allowHosts: ['127.0.0.2'], timeouts });
    expect(await send(`http://127.0.0.2:${port}/hook`, egress)).toEqual({ ok: true, status: 200 });
    expect(received).toEqual([`POST 127.0.0.2:${port}/hook`]);
  });
});
