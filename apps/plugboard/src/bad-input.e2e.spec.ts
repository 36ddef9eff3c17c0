import { connect as tcpConnect } from 'node:net';
import { DataSource } from 'typeorm';
import { ErrorCodes } from '@plugboard/contracts';
import { dataSourceOptions } from '@plugboard/runtime';
import { Keyring, Vault } from '@plugboard/vault';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

/** Sends bytes as they are, for requests fetch would refuse to build; answers the status line and the body. */
function rawRequest(base: string, head: Buffer | string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname, () => socket.write(head));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
  });
}

/**
 * Bytes no caller should send: NUL and control characters in paths, queries, header values and credentials, and
 * JSON nested past any sane depth. Each answers 400 with a stable code, stores nothing, and crashes nothing.
 */
describe('bad bytes are refused with a 4xx', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let alice: string;
  let masterKey: string;

  const request = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${sys.publicUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${alice}`, 'x-user-id': 'alice', 'content-type': 'application/json', ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    return { status: response.status, requestId: response.headers.get('x-request-id'), body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  const authorizedEvents = async (linkName: string) =>
    (await sys.sql(`SELECT count(*)::int AS n FROM events WHERE type = 'ConnectionAuthorized' AND data->>'linkName' = $1`, [linkName]))[0].n;

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem((port) => {
      masterKey = Buffer.alloc(32, port % 251).toString('base64');
      return { PLUGBOARD_MASTER_KEY: masterKey };
    });
    alice = await sys.key('acme', 'member');
    const services = [
      { name: 'Keys', linkName: 'keys', authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } },
      { name: 'Basic', linkName: 'basic', authType: 'basic', baseUrl: up.base },
    ];
    for (const service of services) expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
    for (const linkName of ['keys', 'basic', 'spoiled']) {
      const service = linkName === 'basic' ? 'basic' : 'keys';
      expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service })).status).toBe(201);
    }
    expect((await sys.call('POST', '/v1/connections/keys/authorize', alice, { values: { 'X-Api-Key': 'good-key' } })).status).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await sys?.close();
    await up?.close();
  });

  describe('a NUL or a control byte in a path or a query', () => {
    it.each([
      ['GET', '/v1/services/a%00'],
      ['GET', '/v1/services/a%0d%0aSet-Cookie:x=1'],
      ['PATCH', '/v1/connections/a%00'],
      ['DELETE', '/v1/connections/a%01b'],
      ['GET', '/v1/services?q=%00'],
      ['GET', '/v1/connections?cursor=%00'],
      ['GET', '/v1/oauth/callback?state=%00&code=x'],
      ['GET', '/v1/proxy/x%00/anything'],
      ['GET', '/v1/proxy/keys/a%00b'],
      ['GET', '/v1/proxy/keys/anything?q=%00'],
    ])('%s %s answers 400 invalid_characters', async (method, path) => {
      const reply = await request(method, path, method === 'PATCH' ? { body: '{}' } : {});
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe(ErrorCodes.invalidCharacters);
      expect(reply.body.error.message).toMatch(/control characters/);
    });

    it('a path that is not valid percent-encoding is 400 too', async () => {
      for (const path of ['/v1/services/%E0%A4%A', '/v1/connections/%ff', '/v1/proxy/%ff/x']) {
        const reply = await request('GET', path);
        expect([path, reply.status, reply.body.error.code]).toEqual([path, 400, ErrorCodes.invalidCharacters]);
      }
    });

    it('a line break in a proxied query is the API’s business and goes through', async () => {
      const reply = await request('GET', '/v1/proxy/keys/echo?text=one%0Atwo');
      expect(reply.status).toBe(200);
      expect(up.seen[up.seen.length - 1].query.text).toBe('one\ntwo');
    });

    it('a raw control byte in the request line or a header is answered in the error shape, not a bare 400', async () => {
      const inHeader = await rawRequest(sys.publicUrl, Buffer.concat([Buffer.from(`GET /v1/proxy/keys/x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${alice}\r\nX-A: a`), Buffer.from([1]), Buffer.from('b\r\nConnection: close\r\n\r\n')]));
      expect(inHeader.status).toBe(400);
      expect(JSON.parse(inHeader.body).error.code).toBe(ErrorCodes.invalidCharacters);
      const inPath = await rawRequest(sys.publicUrl, Buffer.concat([Buffer.from('GET /v1/services/a'), Buffer.from([0]), Buffer.from(' HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')]));
      expect(inPath.status).toBe(400);
      expect(JSON.parse(inPath.body).error.code).toBe(ErrorCodes.invalidCharacters);
    });
  });

  describe('header values of an invoke', () => {
    it.each([
      ['a control character', 'a\u0001b'],
      ['a DEL', 'a\u007fb'],
      ['a character past Latin-1', 'price in €'],
      ['a line break', 'a\r\nX-Injected: 1'],
    ])('%s is 400 validation_failed and nothing is sent', async (_what, value) => {
      const before = up.seen.length;
      const reply = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'keys', method: 'GET', url: '/echo', headers: { 'x-note': value } }) });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({ code: ErrorCodes.validationFailed, details: [{ path: 'invoke.headers.x-note' }] });
      expect(up.seen.length).toBe(before);
    });

    it('a NUL is refused with the body, before any schema: 400 invalid_characters', async () => {
      const before = up.seen.length;
      const reply = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'keys', method: 'GET', url: '/echo', headers: { 'x-note': 'a\u0000b' } }) });
      expect([reply.status, reply.body.error.code]).toEqual([400, ErrorCodes.invalidCharacters]);
      expect(up.seen.length).toBe(before);
    });

    it('a tab and Latin-1 letters are field characters and go through', async () => {
      const reply = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'keys', method: 'GET', url: '/echo', headers: { 'x-note': 'caf\u00e9\tau lait' } }) });
      expect(reply.status).toBe(200);
      expect(up.seen[up.seen.length - 1].headers['x-note']).toBe('caf\u00e9\tau lait');
    });
  });

  describe('a NUL in a JSON string', () => {
    it('is 400 invalid_characters wherever it is, and nothing is stored', async () => {
      const before = (await sys.sql(`SELECT count(*)::int AS n FROM events`))[0].n;
      for (const [path, body] of [
        ['/v1/services', { name: 'N\u0000', linkName: 'nul', authType: 'basic', baseUrl: up.base }],
        ['/v1/connections', { name: 'n', linkName: 'nul', service: 'keys', parameters: { 'a\u0000': 'b' } }],
        ['/v1/invoke', { connection: 'keys\u0000', method: 'GET', url: '/echo' }],
      ] as const) {
        const reply = await request('POST', path, { body: JSON.stringify(body) });
        expect([path, reply.status, reply.body.error.code]).toEqual([path, 400, ErrorCodes.invalidCharacters]);
      }
      expect((await sys.sql(`SELECT count(*)::int AS n FROM events`))[0].n).toBe(before);
    });
  });

  describe('credentials with control characters', () => {
    // A NUL is refused with the JSON body, before the schema (which refuses it too, for NATS callers).
    it.each([
      ['an API key value with CR/LF', 'keys', { values: { 'X-Api-Key': 'abc\r\nX-Injected: 1' } }, 'authorization.values.X-Api-Key'],
      ['an API key value with a tab', 'keys', { values: { 'X-Api-Key': 'abc\tdef' } }, 'authorization.values.X-Api-Key'],
      ['an API key value with a NUL', 'keys', { values: { 'X-Api-Key': 'abc\u0000' } }, null],
      ['an API key value past Latin-1 for a header', 'keys', { values: { 'X-Api-Key': 'key\u2028' } }, 'authorization.values.X-Api-Key'],
      ['a Basic username with a NUL', 'basic', { username: 'ada\u0000', password: 'pw' }, null],
      ['a Basic password with a line break', 'basic', { username: 'ada', password: 'pw\nX: 1' }, 'authorization.password'],
      ['a Basic password with an escape character', 'basic', { username: 'ada', password: 'pw\u001b[2J' }, 'authorization.password'],
      ['a Basic username with a colon', 'basic', { username: 'a:da', password: 'pw' }, 'authorization.username'],
    ])('%s is 400 and nothing is stored', async (_what, linkName, authorization, path) => {
      const vaultRows = (await sys.sql(`SELECT count(*)::int AS n FROM vault_entries`))[0].n;
      const authorized = await authorizedEvents(linkName);
      const reply = await request('POST', `/v1/connections/${linkName}/authorize`, { body: JSON.stringify(authorization) });
      expect(reply.status).toBe(400);
      if (path === null) expect(reply.body.error.code).toBe(ErrorCodes.invalidCharacters);
      else {
        expect(reply.body.error.code).toBe(ErrorCodes.validationFailed);
        expect(reply.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      }
      expect(JSON.stringify(reply.body)).not.toMatch(/abc|pw/);
      expect((await sys.sql(`SELECT count(*)::int AS n FROM vault_entries`))[0].n).toBe(vaultRows);
      expect(await authorizedEvents(linkName)).toBe(authorized);
    });

    it('a bad value stored before the check makes invoke and proxy answer credential_unusable, not 500', async () => {
      expect((await sys.call('POST', '/v1/connections/spoiled/authorize', alice, { values: { 'X-Api-Key': 'fine-for-now' } })).status).toBe(200);
      // As an older Plugboard stored it: straight into the vault, under the connection's credential.
      const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = 'spoiled'`);
      const dataSource = await new DataSource(dataSourceOptions({ url: sys.db.url, poolSize: 1 })).initialize();
      try {
        await new Vault(Keyring.parse(masterKey)).put(dataSource.manager, { id: row.credential_ref, orgId: 'acme', purpose: 'connection.credential', value: { kind: 'api_key', values: { 'X-Api-Key': 'old\r\nX-Injected: 1' } } });
      } finally {
        await dataSource.destroy();
      }
      await sys.restart(); // no cached copy of the good value
      const before = up.seen.length;
      const invoked = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'spoiled', method: 'GET', url: '/echo' }) });
      expect(invoked.status).toBe(409);
      expect(invoked.body.error.code).toBe(ErrorCodes.credentialUnusable);
      const proxied = await request('GET', '/v1/proxy/spoiled/echo');
      expect(proxied.status).toBe(409);
      expect(proxied.body.error.code).toBe(ErrorCodes.credentialUnusable);
      expect(up.seen.length).toBe(before);
      expect(sys.logs()).not.toContain('old\\r\\nX-Injected');
    });
  });

  describe('JSON bodies', () => {
    it('nested thousands of levels deep are 400 too_deeply_nested, before parsing', async () => {
      for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
        const body = open.repeat(5000) + '1' + close.repeat(5000);
        const reply = await request('POST', '/v1/invoke', { body });
        expect(reply.status).toBe(400);
        expect(reply.body.error.code).toBe(ErrorCodes.tooDeeplyNested);
      }
      const deepInvoke = `{"connection":"keys","method":"POST","url":"/echo","body":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      expect((await request('POST', '/v1/invoke', { body: deepInvoke })).body.error.code).toBe(ErrorCodes.tooDeeplyNested);
    });

    it('brackets inside strings do not count, and a body nested 64 levels is fine', async () => {
      const nested = JSON.parse('['.repeat(60) + '"[[[[{{{{"' + ']'.repeat(60));
      const reply = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'keys', method: 'POST', url: '/echo', body: { v: nested, s: '[[[[\\"[[[[' } }) });
      expect(reply.status).toBe(200);
    });

    it('larger than 1 MiB is 413 payload_too_large', async () => {
      const reply = await request('POST', '/v1/invoke', { body: JSON.stringify({ connection: 'keys', method: 'POST', url: '/echo', body: 'x'.repeat(1024 * 1024 + 1) }) });
      expect(reply.status).toBe(413);
      expect(reply.body.error.code).toBe(ErrorCodes.payloadTooLarge);
    });
  });
});
