import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogEntry } from '@plugboard/catalog';
import type { ServiceDefinition } from '@plugboard/contracts';
import { EgressPolicy } from './egress-policy';
import { customCalls, predefinedCalls } from './service-target';
import { verificationTargetOf, verifyCredential, type VerificationTarget } from './verification';

/** A local API that accepts one API key (header `x-api-key` or query `key`) and one Basic user, and plays failures. */
function startApi(): Promise<{ server: Server; base: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const url = new URL((req.url ?? '/').replace(/^\/api/, ''), 'http://x');
    if (url.pathname === '/v1/broken') return res.writeHead(503).end();
    if (url.pathname === '/v1/hang') return;
    if (url.pathname === '/v1/redirect') return res.writeHead(302, { location: 'https://elsewhere.example/' }).end();
    const basic = `Basic ${Buffer.from('ada:right-password').toString('base64')}`;
    const ok = req.headers['x-api-key'] === 'Key right-key' || url.searchParams.get('key') === 'right-key' || req.headers.authorization === basic;
    if (ok) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"me":true}');
    res.writeHead(url.pathname === '/v1/forbidden' ? 403 : 401).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen })));
}

const definition = (base: string, over: Partial<ServiceDefinition> = {}): ServiceDefinition => ({
  orgId: 'acme',
  linkName: 'svc',
  name: 'Svc',
  authType: 'api_key',
  baseUrl: `${base}/api`,
  allowedHosts: [new URL(base).host],
  owner: 'alice',
  verify: { method: 'GET', path: '/v1/me' },
  apiKey: { params: [{ name: 'key', displayName: 'Key', paramType: 'query' }] },
  createdAt: '2026-11-23T10:00:00.000Z',
  ...over,
});

describe('verification calls', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  const timeouts = { invokeMs: 500, webhookMs: 500, oauthMs: 500, verificationMs: 500, signInMs: 500 };
  const options = new EgressPolicy({ allowHosts: ['127.0.0.1'], timeouts });
  const strict = new EgressPolicy({ allowHosts: [], timeouts });
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => new Promise((resolve) => api.server.close(resolve)));

  const target = (path: string, over: Partial<ServiceDefinition> = {}): VerificationTarget =>
    verificationTargetOf(customCalls(definition(api.base, { verify: { method: 'GET', path }, ...over }))) as VerificationTarget;

  it('calls the path under the base URL with the key injected: accepted, or rejected on 401 and 403', async () => {
    expect(await verifyCredential(target('/v1/me'), { kind: 'api_key', values: { key: 'right-key' } }, options)).toEqual({ result: 'accepted', status: 200 });
    expect(api.seen.at(-1)?.url).toBe('/api/v1/me?key=right-key');
    expect(await verifyCredential(target('/v1/me'), { kind: 'api_key', values: { key: 'wrong-key' } }, options)).toEqual({ result: 'rejected', status: 401 });
    expect(await verifyCredential(target('/v1/forbidden'), { kind: 'api_key', values: { key: 'wrong-key' } }, options)).toEqual({ result: 'rejected', status: 403 });
  });

  it('injects Basic credentials, and a catalog entry’s prefixed header', async () => {
    const basic = target('/v1/me', { authType: 'basic', apiKey: undefined });
    expect(await verifyCredential(basic, { kind: 'basic', username: 'ada', password: 'right-password' }, options)).toMatchObject({ result: 'accepted' });
    expect(await verifyCredential(basic, { kind: 'basic', username: 'ada', password: 'wrong' }, options)).toMatchObject({ result: 'rejected' });
    const entry = {
      linkName: 'local',
      authType: 'api_key',
      baseUrl: 'https://{host}/api',
      allowedHosts: ['{host}'],
      verify: { method: 'GET', path: '/v1/me' },
      connectionParameters: [{ name: 'host', displayName: 'Host', pattern: '^127\\.0\\.0\\.1:\\d+$', example: '127.0.0.1:80' }],
      apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header', prefix: 'Key ' }] },
    } as unknown as CatalogEntry;
    const predefined = verificationTargetOf(predefinedCalls(entry, { host: new URL(api.base).host })) as VerificationTarget;
    predefined.url.protocol = 'http:';
    expect(await verifyCredential(predefined, { kind: 'api_key', values: { 'X-Api-Key': 'right-key' } }, options)).toMatchObject({ result: 'accepted' });
    expect(api.seen.at(-1)?.headers['x-api-key']).toBe('Key right-key');
    expect(() => verificationTargetOf(predefinedCalls(entry, { host: 'evil.example' }))).toThrow(/does not match/);
  });

  it('says nothing about the credential on 5xx, redirects, timeouts and refused connections', async () => {
    const key = { kind: 'api_key' as const, values: { key: 'right-key' } };
    expect(await verifyCredential(target('/v1/broken'), key, options)).toEqual({ result: 'inconclusive', status: 503, reason: 'HTTP 503' });
    expect(await verifyCredential(target('/v1/redirect'), key, options)).toEqual({ result: 'inconclusive', status: 302, reason: 'HTTP 302' });
    expect(await verifyCredential(target('/v1/hang'), key, options)).toEqual({ result: 'inconclusive', status: null, reason: 'TIMEOUT' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = verificationTargetOf(customCalls(definition(`http://127.0.0.1:${port}`))) as VerificationTarget;
    expect(await verifyCredential(gone, key, options)).toEqual({ result: 'inconclusive', status: null, reason: 'ECONNREFUSED' });
  });

  it('keeps the address rules: the service’s hosts, https, no private address unless allowed', async () => {
    const key = { kind: 'api_key' as const, values: { key: 'right-key' } };
    const count = api.seen.length;
    await expect(verifyCredential(target('/v1/me', { allowedHosts: ['api.example.com'] }), key, options)).rejects.toMatchObject({ code: 'host_not_allowed' });
    await expect(verifyCredential(target('/v1/me'), key, strict)).rejects.toMatchObject({ code: 'host_not_allowed', message: /only be called over https/ });
    const https = (host: string) => verificationTargetOf(customCalls(definition(`https://${host}`))) as VerificationTarget;
    await expect(verifyCredential(https('127.0.0.1:9'), key, strict)).rejects.toMatchObject({ code: 'private_address' });
    // A name is checked where it resolves, when the socket connects.
    await expect(verifyCredential(https('localhost:9'), key, strict)).rejects.toMatchObject({ code: 'private_address' });
    expect(api.seen.length).toBe(count);
  });

  it('declares no call without a verify path or a base URL, or for credentials sent as form data', () => {
    expect(verificationTargetOf(customCalls(definition('https://api.example.com', { verify: undefined })))).toBeNull();
    expect(verificationTargetOf(customCalls(definition('https://api.example.com', { apiKey: { params: [{ name: 'k', displayName: 'K', paramType: 'form' }] } })))).toBeNull();
    expect(verificationTargetOf(customCalls(definition('https://api.example.com', { verify: { method: 'GET', path: '/me?fields=id' } })))?.url.toString()).toBe('https://api.example.com/api/me?fields=id');
  });
});
