import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import { Subjects } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { eventually, TEST_NATS_URL, WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const execFileAsync = promisify(execFile);
const MAX_BYTES = 32 * 1024 * 1024;

describe('invoke through a connection', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
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
    sys = await startTestSystem({ PLUGBOARD_INVOKE_TIMEOUT_MS: '1500', PLUGBOARD_PROXY_MAX_BYTES: String(MAX_BYTES), PLUGBOARD_INVOKE_RETRIES: '2', PLUGBOARD_INVOKE_RETRY_BASE_MS: '10', PLUGBOARD_INVOKE_RETRY_MAX_MS: '2000' });
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
    expect((await fetch(approve.headers.get('location') as string, { headers: sys.browserHeaders })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await as?.stop();
    await provider1?.stop();
    await sys?.close();
    await up?.close();
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
    // A product's key acting for bob: the refusal carries a connect link to hand to bob.
    expect(bob.body.error).toEqual({ code: 'user_not_authorized', message: expect.stringContaining('"bob" has not authorized'), connectLink: { url: expect.stringContaining('/console/connect/cl_'), expiresAt: expect.any(String) } });
    expect((await invoke({ connection: 'keys', method: 'FETCH', url: '/' })).body.error.code).toBe('validation_failed');
    for (const headers of [{ 'x bad': '1' }, { 'x-split': 'a\r\nx-injected: 1' }]) {
      const bad = await invoke({ connection: 'keys', method: 'GET', url: '/', headers });
      expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
    }
  });

  it('retries idempotent calls on 429/503 as configured, honouring Retry-After, and never a POST', async () => {
    const calls = (id: string) => up.seen.filter((r) => r.path === '/flaky' && r.query.id === id).length;
    const retried = await invoke({ connection: 'basic', method: 'GET', url: '/flaky', query: { id: 'a', fail: '2' } });
    expect({ status: retried.body.status, calls: calls('a') }).toEqual({ status: 200, calls: 3 });
    const tooMany = await invoke({ connection: 'basic', method: 'GET', url: '/flaky', query: { id: 'b', fail: '5', status: '429', retryAfter: '1' } });
    expect({ status: tooMany.body.status, calls: calls('b') }).toEqual({ status: 429, calls: 3 });
    const waitTooLong = await invoke({ connection: 'basic', method: 'GET', url: '/flaky', query: { id: 'c', fail: '1', retryAfter: '3600' } });
    expect({ status: waitTooLong.body.status, calls: calls('c') }).toEqual({ status: 503, calls: 1 });
    const post = await invoke({ connection: 'basic', method: 'POST', url: '/flaky', query: { id: 'd', fail: '1' }, body: { once: true } });
    expect({ status: post.body.status, calls: calls('d') }).toEqual({ status: 503, calls: 1 });
  });

  describe('ANY /v1/proxy/{linkName}/…', () => {
    /** A call through the passthrough proxy, as a person or a script makes it. */
    async function proxy(method: string, path: string, options: { headers?: Record<string, string>; body?: string; key?: string | null; user?: string } = {}) {
      const headers: Record<string, string> = { 'x-user-id': options.user ?? 'alice', ...options.headers };
      const key = options.key === undefined ? alice : options.key;
      if (key) headers.authorization = `Bearer ${key}`;
      const response = await fetch(`${sys.publicUrl}/v1/proxy/${path}`, { method, headers, body: options.body, redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
    }

    it('forwards method, path, query, headers and body, each credential where the service says', async () => {
      const response = await proxy('POST', 'keys/things?page=2&q=a%20b', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-trace': 't-2' }, body: 'name=widget' });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ ok: true, path: '/v1/things' });
      expect(response.headers.get('x-upstream')).toBe('yes');
      expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      const seen = last();
      expect(seen).toMatchObject({ method: 'POST', path: '/v1/things', query: { page: '2', q: 'a b', account: 'acct-7' } });
      expect(seen.headers).toMatchObject({ 'x-api-key': 'hdr-secret-1', 'x-trace': 't-2' });
      expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({ name: 'widget', token: 'form-secret-2' });
      expect(Number(seen.headers['content-length'])).toBe(Buffer.byteLength(seen.body));

      expect((await proxy('PUT', 'basic/me', { headers: { 'content-type': 'application/json', cookie: 'session=caller', 'x-forwarded-for': '10.0.0.7', forwarded: 'for=10.0.0.7' }, body: '{"a":1}' })).status).toBe(200);
      expect(last()).toMatchObject({ method: 'PUT', path: '/me', body: '{"a":1}' });
      expect(last().headers.authorization).toBe(`Basic ${Buffer.from('ada:pw-secret-3').toString('base64')}`);
      for (const dropped of ['cookie', 'x-user-id', 'x-forwarded-for', 'forwarded']) expect(last().headers[dropped]).toBeUndefined();

      expect((await proxy('GET', 'bearer/data')).status).toBe(200);
      expect(last().headers.authorization).toMatch(/^Bearer \S{20,}$/);
      expect((await proxy('DELETE', 'querytoken/data/7')).status).toBe(200);
      expect(last()).toMatchObject({ method: 'DELETE', path: '/data/7', query: { access_token: expect.stringMatching(/^\S{20,}$/) } });
    });

    it('signs OAuth 1.0a requests, form fields included, as the provider verifies', async () => {
      const get = await proxy('GET', 'legacy/api/echo?file=vacation.jpg&size=original');
      expect(get.json()).toMatchObject({ ok: true, method: 'GET', query: { file: 'vacation.jpg', size: 'original' } });
      const post = await proxy('POST', 'legacy/api/echo', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=hello%20world' });
      expect(post.status).toBe(200);
      expect(post.json()).toMatchObject({ ok: true, method: 'POST' });
    });

    it('streams a large body both ways, without waiting for its end', async () => {
      const size = 24 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024, 'y');
      const expected = createHash('sha256');
      // Upload: the first megabyte reaches the API while the rest has not been written yet.
      const uploaded = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${sys.publicUrl}/v1/proxy/basic/upload`, { method: 'PUT', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/octet-stream' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        req.write(chunk);
        expected.update(chunk);
        void up.uploadStarted().then(() => {
          for (let sent = chunk.length; sent < size; sent += chunk.length) {
            req.write(chunk);
            expected.update(chunk);
          }
          req.end();
        });
      });
      expect(uploaded).toMatchObject({ status: 200 });
      expect(JSON.parse(uploaded.body)).toEqual({ bytes: size, sha256: expected.digest('hex') });

      // Download: the first half of an answer reaches the caller while the API still holds the rest.
      const dripping = await fetch(`${sys.publicUrl}/v1/proxy/basic/drip`, { headers: { authorization: `Bearer ${alice}` } });
      const reader = (dripping.body as ReadableStream<Uint8Array>).getReader();
      const text = async () => Buffer.from((await reader.read()).value ?? []).toString();
      expect(await text()).toBe('first half;');
      up.releaseDrip();
      expect(await text()).toBe('second half');

      const downloaded = await fetch(`${sys.publicUrl}/v1/proxy/basic/download?bytes=${size}`, { headers: { authorization: `Bearer ${alice}` } });
      expect(downloaded.headers.get('content-length')).toBe(String(size));
      expect((await downloaded.arrayBuffer()).byteLength).toBe(size);
    });

    it('refuses bodies over the limit, and cuts off answers over it', async () => {
      const tooBig = await proxy('POST', 'basic/upload', { headers: { 'content-type': 'application/octet-stream' }, body: 'z'.repeat(MAX_BYTES + 1) });
      expect({ status: tooBig.status, code: tooBig.json().error.code }).toEqual({ status: 413, code: 'payload_too_large' });
      const huge = await fetch(`${sys.publicUrl}/v1/proxy/basic/download?bytes=${MAX_BYTES + 1024 * 1024}`, { headers: { authorization: `Bearer ${alice}` } });
      expect({ status: huge.status, body: huge.status === 200 ? null : await huge.text() }).toEqual({ status: 200, body: null });
      await expect(huge.arrayBuffer()).rejects.toThrow();
    });

    it('after a 401, refreshes the OAuth 2 token once and sends the same request again', async () => {
      await proxy('GET', 'querytoken/whoami');
      const expired = last().query.access_token;
      up.rejectedTokens.add(expired);
      const calls = up.seen.length;
      const response = await proxy('POST', 'querytoken/orders', { headers: { 'content-type': 'application/json' }, body: '{"item":42}' });
      expect(response.status).toBe(200);
      const [first, second] = up.seen.slice(calls);
      expect(first.query.access_token).toBe(expired);
      expect(second).toMatchObject({ method: 'POST', path: '/orders', body: '{"item":42}' });
      expect(second.query.access_token).not.toBe(expired);
    });

    it('keeps calls on the service’s host: no escape by path, no redirect followed, a deadline', async () => {
      await proxy('GET', 'basic//evil.example/steal');
      expect(last()).toMatchObject({ target: '//evil.example/steal', headers: { host: new URL(up.base).host } });
      const redirected = await proxy('GET', 'basic/redirect');
      expect({ status: redirected.status, location: redirected.headers.get('location') }).toEqual({ status: 302, location: 'http://169.254.169.254/latest/meta-data' });
      const slow = await proxy('GET', 'basic/slow');
      expect({ status: slow.status, code: slow.json().error.code }).toEqual({ status: 504, code: 'upstream_timeout' });
      await connect({ name: 'Inside', linkName: 'inside', authType: 'basic', baseUrl: 'https://10.1.2.3/api' }, 'inside', { username: 'u', password: 'p' });
      const inside = await proxy('GET', 'inside/x');
      expect({ status: inside.status, code: inside.json().error.code }).toEqual({ status: 403, code: 'private_address' });
    });

    it('retries idempotent calls whose body it holds, as POST /v1/invoke does', async () => {
      const retried = await proxy('PUT', 'basic/flaky?id=p1&fail=1', { headers: { 'content-type': 'application/json' }, body: '{"v":1}' });
      expect(retried.status).toBe(200);
      expect(up.seen.filter((r) => r.query.id === 'p1').map((r) => r.body)).toEqual(['{"v":1}', '{"v":1}']);
    });

    it('answers each refusal with a stable code and a sentence', async () => {
      const refusal = async (path: string, options: Parameters<typeof proxy>[2] = {}) => {
        const { status, json } = await proxy('GET', path, options);
        const { error } = json();
        expect(error.message).toMatch(/\.$/);
        return { status, code: error.code };
      };
      expect(await refusal('basic/x', { key: null })).toEqual({ status: 401, code: 'unauthenticated' });
      expect(await refusal('basic/x', { key: await sys.key('acme', 'read_only') })).toEqual({ status: 403, code: 'forbidden' });
      expect(await refusal('nope/x')).toEqual({ status: 404, code: 'connection_not_found' });
      expect(await refusal('basic/x', { key: globex })).toEqual({ status: 404, code: 'connection_not_found' });
      expect(await refusal('pending/x')).toEqual({ status: 409, code: 'connection_not_connected' });
      expect(await refusal('mine/x', { user: 'bob' })).toEqual({ status: 409, code: 'user_not_authorized' });
    });

    it('logs each call by path, without query values or secrets', async () => {
      // Written a few times a second, after the answers.
      await eventually(async () => {
        const rows = await sys.sql(`SELECT method, host, path, status FROM invocations WHERE connection = 'keys' AND path = '/v1/things' ORDER BY id`);
        expect(rows).toHaveLength(2);
        expect(rows[1]).toEqual({ method: 'POST', host: new URL(up.base).host, path: '/v1/things', status: 200 });
      });
      const everything = JSON.stringify(await sys.sql(`SELECT * FROM invocations`)) + sys.logs();
      for (const secret of ['hdr-secret-1', 'form-secret-2', 'pw-secret-3', 'acct-7', 'cs-invoke', alice]) expect(everything).not.toContain(secret);
    });
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
    // The deployment's addresses stay placeholders (any reader may ask for a snippet): the caller brings its own.
    expect(JSON.stringify(body)).not.toContain(new URL(TEST_NATS_URL).host);
    expect(body.nats).toContain('process.env.NATS_URL');
    const env = { ...process.env, PLUGBOARD_API_KEY: alice, NATS_URL: TEST_NATS_URL };
    // Asynchronously: the gateway answering these runs in this very process.
    const run = async (command: string, args: string[]) => JSON.parse((await execFileAsync(command, args, { env, cwd: WORKSPACE_ROOT, timeout: 20_000 })).stdout);
    expect(await run('bash', ['-c', body.curl])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect(await run('bash', ['-c', body.proxyCurl])).toEqual({ ok: true, path: '/' });
    expect(await run(process.execPath, ['-e', body.typescript])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect(await run(process.execPath, ['-e', body.nats])).toMatchObject({ status: 200, body: { ok: true, path: '/' } });
    expect((await sys.call('GET', '/v1/connections/nope/snippet', alice)).status).toBe(404);
  });

  it('exposes Prometheus metrics of calls, requests, bus round trips, refreshes and projections to a key holder', async () => {
    expect((await fetch(`${sys.publicUrl}/metrics`)).status).toBe(401);
    const response = await fetch(`${sys.publicUrl}/metrics`, { headers: { authorization: `Bearer ${await sys.key('acme', 'read_only')}` } });
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}()[\].*+?^$|\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('plugboard_invoke_duration_seconds_count{entry="proxy",outcome="2xx"}')).toBeGreaterThan(5);
    expect(value('plugboard_invoke_duration_seconds_count{entry="invoke",outcome="connection_not_found"}')).toBeGreaterThanOrEqual(2);
    expect(value('plugboard_http_request_duration_seconds_count{method="POST",route="/v1/invoke",status="200"}')).toBeGreaterThan(5);
    expect(value('plugboard_nats_request_duration_seconds_count{subject="invoke.request",outcome="ok"}')).toBeGreaterThan(5);
    expect(value('plugboard_refresh_total{outcome="refreshed"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^plugboard_projection_lag_seconds\{subscription="projection:service-connection-counts"\} \S+$/m);
    expect(text).not.toContain(alice);
  });

  it('logs each invocation without secrets or query values, and never logs a credential', async () => {
    const rows = await eventually(async () => {
      const written = await sys.sql(`SELECT connection, method, host, path, status, error_code FROM invocations WHERE connection = 'keys' ORDER BY id`);
      expect(written.length).toBeGreaterThan(0);
      return written;
    });
    expect(rows[0]).toEqual({ connection: 'keys', method: 'POST', host: new URL(up.base).host, path: '/v1/things', status: 200, error_code: null });
    const everything = JSON.stringify(await sys.sql(`SELECT * FROM invocations`)) + sys.logs();
    for (const secret of ['hdr-secret-1', 'form-secret-2', 'pw-secret-3', 'acct-7', 'cs-invoke']) expect(everything).not.toContain(secret);
  });
});
