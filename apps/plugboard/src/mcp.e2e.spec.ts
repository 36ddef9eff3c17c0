import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

/** Every secret the test stores: none may appear in any tool result. */
const SECRETS = ['hdr-secret-mcp-1', 'alice-pw-mcp-2', 'bob-pw-mcp-3', 'globex-secret-mcp-4'];

describe('MCP at /mcp (the SDK’s Streamable HTTP client against the gateway)', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let acme: string;
  let acmeReadOnly: string;
  let globex: string;
  const results: CallToolResult[] = [];
  const clients: Client[] = [];

  /** An MCP client as an agent runs it: the SDK's client over Streamable HTTP, with the given headers on every request. */
  async function agent(headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'plugboard-test-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${sys.publicUrl}/mcp`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }
  const as = (key: string, user?: string) => agent({ authorization: `Bearer ${key}`, ...(user ? { 'x-user-id': user } : {}) });

  async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    results.push(result);
    return result;
  }
  const json = (result: CallToolResult) => JSON.parse((result.content[0] as { text: string }).text);
  const errorOf = (result: CallToolResult) => {
    expect(result.isError).toBe(true);
    return json(result).error;
  };

  async function ok(method: string, path: string, key: string, body?: unknown, user = 'alice') {
    const reply = await sys.call(method, path, key, body, user);
    if (reply.status >= 300) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem();
    acme = await sys.key('acme', 'member');
    acmeReadOnly = await sys.key('acme', 'read_only');
    globex = await sys.key('globex', 'admin');
    await ok('POST', '/v1/services', acme, {
      name: 'Things API',
      linkName: 'things',
      authType: 'api_key',
      baseUrl: `${up.base}/v1`,
      apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] },
    });
    await ok('POST', '/v1/connections', acme, { name: 'Things', linkName: 'things', service: 'things' });
    await ok('POST', '/v1/connections/things/authorize', acme, { values: { 'X-Api-Key': 'hdr-secret-mcp-1' } });
    await ok('POST', '/v1/services', acme, { name: 'Personal API', linkName: 'personal', authType: 'basic', baseUrl: up.base });
    await ok('POST', '/v1/connections', acme, { name: 'Personal', linkName: 'personal', service: 'personal', useLoginUserCredentials: true });
    await ok('POST', '/v1/connections/personal/authorize', acme, { username: 'alice', password: 'alice-pw-mcp-2' });
    await ok('POST', '/v1/services', globex, { name: 'Globex API', linkName: 'gx', authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } }, 'gus');
    await ok('POST', '/v1/connections', globex, { name: 'Globex', linkName: 'gx', service: 'gx' }, 'gus');
    await ok('POST', '/v1/connections/gx/authorize', globex, { values: { 'X-Api-Key': 'globex-secret-mcp-4' } }, 'gus');
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await sys?.close();
    await up?.close();
  });

  it('refuses a caller without a key with 401 and WWW-Authenticate naming the protected-resource metadata', async () => {
    const response = await fetch(`${sys.publicUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(response.status).toBe(401);
    const metadataUrl = `${sys.publicUrl}/.well-known/oauth-protected-resource/mcp`;
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    const wrongKey = await fetch(`${sys.publicUrl}/mcp`, { method: 'POST', headers: { authorization: 'Bearer pb_not-a-key', 'content-type': 'application/json' }, body: '{}' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers.get('www-authenticate')).toContain('error="invalid_token"');
    for (const url of [metadataUrl, `${sys.publicUrl}/.well-known/oauth-protected-resource`]) {
      const metadata = await fetch(url);
      expect(metadata.status).toBe(200);
      // No identity provider configured here: API keys only, so no authorization server is named.
      expect(await metadata.json()).toEqual({ resource: `${sys.publicUrl}/mcp`, bearer_methods_supported: ['header'], resource_name: 'Plugboard', resource_documentation: `${sys.publicUrl}/docs` });
    }
    await expect(agent({})).rejects.toThrow(/unauthenticated/);
  });

  it('offers the three tools', async () => {
    const client = await as(acme, 'alice');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['call_api', 'describe_connection', 'list_connections']);
    expect(tools.find((tool) => tool.name === 'call_api')?.inputSchema.required).toEqual(expect.arrayContaining(['connection', 'method', 'path']));
  });

  it('list_connections: the user’s connections with service, status and scopes, none of another org', async () => {
    const listed = json(await call(await as(acme, 'alice'), 'list_connections'));
    expect(listed.connections).toEqual(
      expect.arrayContaining([
        { linkName: 'things', name: 'Things', service: 'things', authType: 'api_key', status: 'connected', scopes: [], kind: 'own', usesYourOwnAccount: false },
        expect.objectContaining({ linkName: 'personal', status: 'connected', usesYourOwnAccount: true }),
      ]),
    );
    expect(listed.connections.map((c: { linkName: string }) => c.linkName)).not.toContain('gx');
  });

  it('describe_connection: service, base URL, allowed hosts, scopes and docs link', async () => {
    const described = json(await call(await as(acme, 'alice'), 'describe_connection', { connection: 'things' }));
    expect(described).toEqual({
      linkName: 'things',
      name: 'Things',
      status: 'connected',
      usesYourOwnAccount: false,
      service: { linkName: 'things', name: 'Things API', type: 'custom', authType: 'api_key' },
      baseUrl: `${up.base}/v1`,
      allowedHosts: [new URL(up.base).host],
      scopes: [],
      docsUrl: null,
    });
  });

  it('call_api: through the invoke pipeline (credential injected, logged with entry mcp, counted in the metrics)', async () => {
    const before = up.seen.length;
    const result = await call(await as(acme, 'alice'), 'call_api', { connection: 'things', method: 'POST', path: '/items', query: { page: '2' }, headers: { 'x-trace': 't-1' }, body: { name: 'widget' } });
    expect(result.isError).toBeFalsy();
    const answer = json(result);
    expect(answer).toMatchObject({ status: 200, headers: { 'x-upstream': 'yes' }, body: { ok: true, path: '/v1/items' } });
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(up.seen.length).toBe(before + 1);
    expect(up.seen[before]).toMatchObject({ method: 'POST', path: '/v1/items', query: { page: '2' }, body: '{"name":"widget"}' });
    expect(up.seen[before].headers).toMatchObject({ 'x-api-key': 'hdr-secret-mcp-1', 'x-trace': 't-1' });
    await eventually(async () =>
      expect(await sys.sql(`SELECT entry, org_id, user_id, connection, method, path, status FROM invocations WHERE entry = 'mcp' AND path = '/v1/items'`)).toEqual([
        { entry: 'mcp', org_id: 'acme', user_id: 'alice', connection: 'things', method: 'POST', path: '/v1/items', status: 200 },
      ]),
    );
    const metrics = await (await fetch(`${sys.publicUrl}/metrics`, { headers: { authorization: `Bearer ${acme}` } })).text();
    expect(metrics).toMatch(/plugboard_invoke_duration_seconds_count\{entry="mcp",outcome="2xx"\} [1-9]/);
  });

  it('call_api: a body over the size limit is cut, with a note saying so', async () => {
    const answer = json(await call(await as(acme, 'alice'), 'call_api', { connection: 'things', method: 'GET', path: '/download', query: { bytes: '200000' } }));
    expect(answer.status).toBe(200);
    expect(answer.body).toHaveLength(64 * 1024);
    expect(answer.truncated).toEqual({ shownCharacters: 64 * 1024, totalCharacters: 200_000 });
    expect(answer.note).toMatch(/cut to its first 65536 of 200000 characters/);
  });

  it('call_api: a host the service does not allow is refused before anything is sent', async () => {
    const before = up.seen.length;
    for (const path of ['http://169.254.169.254/latest/meta-data', 'https://example.com/x']) {
      expect(errorOf(await call(await as(acme, 'alice'), 'call_api', { connection: 'things', method: 'GET', path })).code).toBe('host_not_allowed');
    }
    expect(up.seen.length).toBe(before);
  });

  it('another org’s connection cannot be described, called or listed', async () => {
    const client = await as(acme, 'alice');
    expect(errorOf(await call(client, 'describe_connection', { connection: 'gx' })).code).toBe('connection_not_found');
    expect(errorOf(await call(client, 'call_api', { connection: 'gx', method: 'GET', path: '/x' })).code).toBe('connection_not_found');
    expect(json(await call(await as(globex, 'gus'), 'list_connections')).connections.map((c: { linkName: string }) => c.linkName)).toEqual(['gx']);
  });

  it('refuses NUL, CR and LF in arguments, and sends nothing', async () => {
    const client = await as(acme, 'alice');
    const before = up.seen.length;
    for (const args of [
      { path: '/items\r\nX-Injected: 1' },
      { path: '/items\n' },
      { path: '/items%00' },
      { path: '/items', headers: { 'x-trace': 'a\r\nX-Injected: 1' } },
      { path: '/items', headers: { 'x-trace\n': 'a' } },
      { path: '/items', query: { 'q\r\n': 'a' } },
    ]) {
      expect(errorOf(await call(client, 'call_api', { connection: 'things', method: 'GET', ...args }))).toMatchObject({ code: 'invalid_characters', message: expect.stringMatching(/control characters/) });
    }
    expect(errorOf(await call(client, 'describe_connection', { connection: 'things\r\n' })).code).toBe('validation_failed');
    expect(up.seen.length).toBe(before);
    // A NUL anywhere in the arguments is refused by the gateway's body check for every route, before MCP reads it.
    for (const args of [{ path: '/items\u0000' }, { path: '/items', query: { q: 'a\u0000' } }, { path: '/items', body: { note: '\u0000' } }]) {
      await expect(client.callTool({ name: 'call_api', arguments: { connection: 'things', method: 'POST', ...args } })).rejects.toThrow(/invalid_characters/);
    }
    expect(up.seen.length).toBe(before);
  });

  it('a person’s key acts as its user: X-User-Id naming anyone else is refused, and that person’s own credential is theirs alone', async () => {
    const admin = await sys.key('acme', 'admin');
    const carol = await ok('POST', '/v1/keys', admin, { role: 'member', user: 'carol' });
    const spoofed = await fetch(`${sys.publicUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol.key}`, 'x-user-id': 'alice', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(spoofed.status).toBe(403);
    expect(((await spoofed.json()) as { error: { code: string } }).error.code).toBe('user_mismatch');
    await expect(as(carol.key, 'alice')).rejects.toThrow(/user_mismatch/);
    // As herself (named or not), carol does not get alice's credential of the per-user connection.
    const before = up.seen.length;
    for (const client of [await as(carol.key), await as(carol.key, 'carol')]) {
      const needed = errorOf(await call(client, 'call_api', { connection: 'personal', method: 'GET', path: '/me' }));
      // A person's agent gets a link for that person to connect their own account.
      expect(needed).toMatchObject({ code: 'user_not_authorized', connectLink: { url: expect.stringMatching(new RegExp(`^${sys.publicUrl}/console/connect/`)) } });
    }
    expect(up.seen.length).toBe(before);
  });

  it('a read-only key lists and describes but does not call', async () => {
    const client = await as(acmeReadOnly, 'alice');
    expect(json(await call(client, 'list_connections')).connections.length).toBeGreaterThan(0);
    expect(errorOf(await call(client, 'call_api', { connection: 'things', method: 'GET', path: '/x' })).code).toBe('forbidden');
  });

  it('just in time: a user without their own credential gets a connect link; once they finish there, the same call works with theirs, never the first user’s', async () => {
    const bob = await as(acme, 'bob');
    const before = up.seen.length;
    const needed = errorOf(await call(bob, 'call_api', { connection: 'personal', method: 'GET', path: '/me' }));
    expect(needed).toMatchObject({ code: 'user_not_authorized', connectLink: { url: expect.stringMatching(new RegExp(`^${sys.publicUrl}/console/connect/`)), expiresAt: expect.any(String) } });
    expect(up.seen.length).toBe(before);
    // Bob opens the link in his browser, with no key, and connects his own account there.
    const token = new URL(needed.connectLink.url).pathname.split('/').pop();
    const connected = await fetch(`${sys.publicUrl}/v1/connect-links/${token}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bob', password: 'bob-pw-mcp-3' }) });
    expect(connected.status).toBe(200);
    expect(json(await call(bob, 'call_api', { connection: 'personal', method: 'GET', path: '/me' })).status).toBe(200);
    expect(up.seen[up.seen.length - 1].headers.authorization).toBe(`Basic ${Buffer.from('bob:bob-pw-mcp-3').toString('base64')}`);
    expect(json(await call(await as(acme, 'alice'), 'call_api', { connection: 'personal', method: 'GET', path: '/me' })).status).toBe(200);
    expect(up.seen[up.seen.length - 1].headers.authorization).toBe(`Basic ${Buffer.from('alice:alice-pw-mcp-2').toString('base64')}`);
  });

  it('a revoked connection is stopped: the call is refused and the API receives nothing', async () => {
    const client = await as(acme, 'alice');
    expect(json(await call(client, 'call_api', { connection: 'things', method: 'GET', path: '/before' })).status).toBe(200);
    await ok('POST', '/v1/connections/things/revoke', acme);
    const before = up.seen.length;
    expect(errorOf(await call(client, 'call_api', { connection: 'things', method: 'GET', path: '/after' })).code).toBe('connection_revoked');
    expect(json(await call(client, 'describe_connection', { connection: 'things' })).status).toBe('revoked');
    expect(up.seen.length).toBe(before);
  });

  it('no secret in any tool result, nor in the logs', () => {
    expect(results.length).toBeGreaterThan(20);
    const everything = JSON.stringify(results);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
    for (const secret of SECRETS) expect(sys.logs()).not.toContain(secret);
  });
});
