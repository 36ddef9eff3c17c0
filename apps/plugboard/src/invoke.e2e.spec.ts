import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Subjects } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually, WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

const execFileAsync = promisify(execFile);

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local API that records exactly what it received, and can misbehave on request. */
async function startUpstream(): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      seen.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (url.pathname === '/slow') return; // never answers
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
        return;
      }
      if (url.pathname === '/unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' }).end(JSON.stringify({ ok: true, path: url.pathname }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, base: `http://127.0.0.1:${port}`, seen };
}

describe('invoke through a connection', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let as: TestAuthorizationServer;
  let provider1: OAuth1Provider;
  let oauth1Base: string;
  let alice: string;
  let globex: string;
  const invoke = (body: object, key = alice, user = 'alice') => sys.call('POST', '/v1/invoke', key, body, user);
  const last = () => up.seen[up.seen.length - 1];

  async function connect(service: object, linkName: string, authorization: object | null, extra: object = {}) {
    expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service: (service as { linkName: string }).linkName, ...extra })).status).toBe(201);
    if (authorization) expect((await sys.call('POST', `/v1/connections/${linkName}/authorize`, alice, authorization)).status).toBe(200);
  }

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem({ PLUGBOARD_INVOKE_TIMEOUT_MS: '1500' });
    // Hour-long tokens: the token-refresh app's scheduler must not refresh them while the test looks.
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    provider1 = new OAuth1Provider({ consumers: [{ key: 'ck', secret: 'cs-invoke' }] });
    oauth1Base = (await provider1.start()).baseUrl;
    alice = await sys.key('acme', 'member');
    globex = await sys.key('globex', 'admin');
    await connect(
      {
        name: 'Keys',
        linkName: 'keys',
        authType: 'api_key',
        baseUrl: `${up.base}/v1`,
        apiKey: {
          params: [
            { name: 'X-Api-Key', displayName: 'Key', paramType: 'header' },
            { name: 'account', displayName: 'Account', paramType: 'query' },
            { name: 'token', displayName: 'Token', paramType: 'form' },
          ],
        },
      },
      'keys',
      { values: { 'X-Api-Key': 'hdr-secret-1', account: 'acct-7', token: 'form-secret-2' } },
    );
    await connect({ name: 'Basic', linkName: 'basic', authType: 'basic', baseUrl: up.base }, 'basic', { username: 'ada', password: 'pw-secret-3' });
    const oauth2 = (paramType: string, linkName: string) => ({
      name: linkName,
      linkName,
      authType: 'oauth2',
      baseUrl: up.base,
      oauth2: { grantType: 'client_credentials', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, accessTokenUrl: as.tokenUrl, paramType, scopes: [{ name: 'api:read', displayName: 'Read' }] },
    });
    await connect(oauth2('header', 'bearer'), 'bearer', {});
    await connect(oauth2('query', 'querytoken'), 'querytoken', {});
    await connect(
      {
        name: 'OAuth 1',
        linkName: 'legacy',
        authType: 'oauth1',
        baseUrl: oauth1Base,
        oauth1: { consumerKey: 'ck', consumerSecret: 'cs-invoke', requestTokenUrl: `${oauth1Base}/oauth/request_token`, authorizeUrl: `${oauth1Base}/oauth/authorize`, accessTokenUrl: `${oauth1Base}/oauth/access_token`, paramType: 'header' },
      },
      'legacy',
      null,
    );
    const started = await sys.call('POST', '/v1/connections/legacy/authorize', alice, {});
    const approve = await fetch(`${started.body.authorizeUrl}&approve=1`, { redirect: 'manual' });
    expect((await fetch(approve.headers.get('location') as string)).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await as?.stop();
    await provider1?.stop();
    await sys?.close();
    up?.server.closeAllConnections();
    await new Promise((resolve) => up?.server.close(resolve));
  });

  it('API key: each parameter where the service says (header, query string, form data)', async () => {
    const response = await invoke({ connection: 'keys', method: 'post', url: '/things', query: { page: '2' }, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: { name: 'widget' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 200, headers: expect.objectContaining({ 'x-upstream': 'yes' }), body: { ok: true, path: '/v1/things' } });
    const seen = last();
    expect(seen).toMatchObject({ method: 'POST', path: '/v1/things', query: { page: '2', account: 'acct-7' } });
    expect(seen.headers['x-api-key']).toBe('hdr-secret-1');
    expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({ name: 'widget', token: 'form-secret-2' });
  });

  it('Basic: the Authorization header; the caller’s own Authorization and hop-by-hop headers are not forwarded', async () => {
    await invoke({ connection: 'basic', method: 'GET', url: '/me', headers: { Authorization: 'Bearer caller-token', Connection: 'close, x-drop', 'X-Drop': 'hop-only', 'Keep-Alive': 'timeout=5', 'X-Trace': 't-1' } });
    const seen = last();
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('ada:pw-secret-3').toString('base64')}`);
    expect(seen.headers['x-trace']).toBe('t-1');
    expect(seen.headers['x-drop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
  });

  it('OAuth 2: a bearer header or an access_token query parameter, as the service says', async () => {
    await invoke({ connection: 'bearer', method: 'GET', url: '/data' });
    expect(last().headers.authorization).toMatch(/^Bearer \S{20,}$/);
    await invoke({ connection: 'querytoken', method: 'GET', url: '/data' });
    expect(last().query.access_token).toMatch(/^\S{20,}$/);
    expect(last().headers.authorization).toBeUndefined();
  });

  it('OAuth 1.0a: each request signed, query parameters included, as the provider verifies', async () => {
    const response = await invoke({ connection: 'legacy', method: 'GET', url: '/api/echo', query: { file: 'vacation.jpg', size: 'original' } });
    expect(response.body.status).toBe(200);
    expect(response.body.body).toMatchObject({ ok: true, method: 'GET', query: { file: 'vacation.jpg', size: 'original' } });
  });

  it('works as a NATS request from another product', async () => {
    const reply = await sys.rpc.request(Subjects.invoke.request, { actor: { orgId: 'acme', userId: 'alice' }, invoke: { connection: 'basic', method: 'GET', url: '/over-nats' } });
    expect(reply).toMatchObject({ status: 200, body: { path: '/over-nats' } });
  });

  it('refuses hosts the service does not allow, private addresses, and plain http elsewhere', async () => {
    const other = await invoke({ connection: 'basic', method: 'GET', url: 'https://evil.example.com/steal' });
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 403, code: 'host_not_allowed' });
    await sys.call('PATCH', '/v1/services/basic', alice, { allowedHosts: [new URL(up.base).host, '127.0.0.2', '169.254.169.254'] });
    await sys.call('POST', '/v1/connections/basic/authorize', alice, { username: 'ada', password: 'pw-secret-3' });
    const loopback = await invoke({ connection: 'basic', method: 'GET', url: 'https://127.0.0.2/' });
    expect({ status: loopback.status, code: loopback.body.error.code }).toEqual({ status: 403, code: 'private_address' });
    const metadata = await invoke({ connection: 'basic', method: 'GET', url: 'https://169.254.169.254/latest/meta-data' });
    expect(metadata.body.error.code).toBe('private_address');
    const plain = await invoke({ connection: 'basic', method: 'GET', url: 'http://169.254.169.254/' });
    expect(plain.body.error.code).toBe('host_not_allowed');
  });

  it('does not follow redirects, and gives up on a silent API with upstream_timeout', async () => {
    const redirected = await invoke({ connection: 'basic', method: 'GET', url: '/redirect' });
    expect(redirected.body).toMatchObject({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    const slow = await invoke({ connection: 'basic', method: 'GET', url: '/slow' });
    expect({ status: slow.status, code: slow.body.error.code }).toEqual({ status: 504, code: 'upstream_timeout' });
  });

  it('answers each refusal with a stable code: unknown, another org’s, pending, per-user not authorized', async () => {
    expect((await invoke({ connection: 'nope', method: 'GET', url: '/' })).body.error.code).toBe('connection_not_found');
    expect((await invoke({ connection: 'basic', method: 'GET', url: '/' }, globex)).body.error.code).toBe('connection_not_found');
    await connect({ name: 'Pending', linkName: 'pending_svc', authType: 'basic', baseUrl: up.base }, 'pending', null);
    expect((await invoke({ connection: 'pending', method: 'GET', url: '/' })).body.error).toEqual({ code: 'connection_not_connected', message: expect.stringContaining('POST /v1/connections/pending/authorize') });
    await sys.call('POST', '/v1/connections', alice, { name: 'Mine', linkName: 'mine', service: 'pending_svc', useLoginUserCredentials: true });
    await sys.call('POST', '/v1/connections/mine/authorize', alice, { username: 'a', password: 'b' });
    expect((await invoke({ connection: 'mine', method: 'GET', url: '/' })).status).toBe(200);
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
    const bob = await invoke({ connection: 'mine', method: 'GET', url: '/' }, alice, 'bob');
    expect(bob.body.error).toEqual({ code: 'user_not_authorized', message: expect.stringContaining('/v1/connections/mine/authorize') });
    expect((await invoke({ connection: 'keys', method: 'FETCH', url: '/' })).body.error.code).toBe('validation_failed');
  });

  it('stops working as soon as the connection is revoked', async () => {
    expect((await invoke({ connection: 'bearer', method: 'GET', url: '/before' })).status).toBe(200);
    const revokedAt = Date.now();
    await sys.call('POST', '/v1/connections/bearer/revoke', alice);
    await eventually(async () => expect((await invoke({ connection: 'bearer', method: 'GET', url: '/after' })).body.error.code).toBe('connection_revoked'), 2000, 5);
    expect(Date.now() - revokedAt).toBeLessThan(2000);
  });

  it('gives ready-to-paste snippets that work as shown: curl, TypeScript and a NATS request', async () => {
    const { status, body } = await sys.call('GET', '/v1/connections/basic/snippet', alice);
    expect(status).toBe(200);
    const env = { ...process.env, PLUGBOARD_API_KEY: alice };
    // Asynchronously: the gateway answering these runs in this very process.
    const run = async (command: string, args: string[]) => JSON.parse((await execFileAsync(command, args, { env, cwd: WORKSPACE_ROOT, timeout: 20_000 })).stdout);
    expect(await run('bash', ['-c', body.curl])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect(await run(process.execPath, ['-e', body.typescript])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect(await run(process.execPath, ['-e', body.nats])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect((await sys.call('GET', '/v1/connections/nope/snippet', alice)).status).toBe(404);
  });

  it('logs each invocation without secrets or query values, and never logs a credential', async () => {
    const rows = await sys.sql(`SELECT connection, method, host, path, status, error_code FROM invocations WHERE connection = 'keys'`);
    expect(rows[0]).toEqual({ connection: 'keys', method: 'POST', host: new URL(up.base).host, path: '/v1/things', status: 200, error_code: null });
    const everything = JSON.stringify(await sys.sql(`SELECT * FROM invocations`)) + sys.logs();
    for (const secret of ['hdr-secret-1', 'form-secret-2', 'pw-secret-3', 'acct-7', 'cs-invoke']) expect(everything).not.toContain(secret);
  });
});
