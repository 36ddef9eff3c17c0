import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { PLUGBOARD_PROTO_PATH } from '@plugboard/contracts';
import { freePort } from '@plugboard/runtime';
import { WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const execFileAsync = promisify(execFile);

describe('gRPC: invoke and connection lookup from another process', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let grpcAddress: string;
  let member: string;
  let readOnly: string;

  /** Runs the calls in a separate Node process that has only @grpc/grpc-js and the .proto. */
  async function grpc(calls: { rpc: 'Invoke' | 'GetConnection' | 'CreateService'; request: object; metadata?: Record<string, string | string[]> }[]): Promise<any[]> {
    const entry = path.join('apps/plugboard/src/test-support/grpc-client.ts');
    const json = JSON.stringify(calls.map((c) => ({ metadata: {}, ...c })));
    const { stdout } = await execFileAsync(process.execPath, ['tools/run.js', entry, PLUGBOARD_PROTO_PATH, grpcAddress, json], { cwd: WORKSPACE_ROOT, timeout: 30_000 });
    return stdout.trim().split('\n').map((line) => JSON.parse(line));
  }
  const as = (key: string, user = 'alice') => ({ authorization: `Bearer ${key}`, 'x-user-id': user });

  beforeAll(async () => {
    up = await startUpstream();
    const port = await freePort();
    grpcAddress = `127.0.0.1:${port}`;
    sys = await startTestSystem({ GRPC_PORT: String(port) });
    member = await sys.key('acme', 'member');
    readOnly = await sys.key('acme', 'read_only');
    const service = { name: 'Local API', linkName: 'local_api', authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
    expect((await sys.call('POST', '/v1/services', member, service)).status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', member, { name: 'Local', linkName: 'local', service: 'local_api' })).status).toBe(201);
    expect((await sys.call('POST', '/v1/connections/local/authorize', member, { values: { 'X-Api-Key': 'grpc-secret-9' } })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
    await up?.close();
  });

  it('refuses a call without a valid key: UNAUTHENTICATED, with the code in the metadata', async () => {
    const [none, wrong] = await grpc([
      { rpc: 'GetConnection', request: { link_name: 'local' } },
      { rpc: 'Invoke', request: { connection: 'local', method: 'GET', url: '/' }, metadata: { authorization: 'Bearer pb_not-a-key' } },
    ]);
    expect(none).toMatchObject({ ok: false, code: status.UNAUTHENTICATED, metadata: { 'plugboard-error-code': 'unauthenticated' } });
    expect(none.details).toMatch(/Authorization: Bearer/);
    expect(wrong).toMatchObject({ ok: false, code: status.UNAUTHENTICATED });
    expect(up.seen).toHaveLength(0);
  });

  it('invokes the API through the connection, its credentials added by Plugboard', async () => {
    const [answer, text] = await grpc([
      { rpc: 'Invoke', request: { connection: 'local', method: 'post', url: '/things', query: { page: '2' }, headers: { 'x-trace': 't1' }, body_json: '{"name":"widget"}' }, metadata: as(member) },
      { rpc: 'Invoke', request: { connection: 'local', method: 'PUT', url: '/notes', headers: { 'content-type': 'text/plain' }, body_text: 'hello' }, metadata: as(member) },
    ]);
    expect(answer).toMatchObject({ ok: true, response: { status: 200, body: 'body_json', headers: { 'x-upstream': 'yes' } } });
    expect(JSON.parse(answer.response.body_json)).toEqual({ ok: true, path: '/things' });
    expect(text.response.status).toBe(200);
    const [first, second] = up.seen;
    expect(first).toMatchObject({ method: 'POST', path: '/things', query: { page: '2' }, body: '{"name":"widget"}' });
    expect(first.headers).toMatchObject({ 'x-api-key': 'grpc-secret-9', 'x-trace': 't1', 'content-type': 'application/json' });
    expect(second).toMatchObject({ method: 'PUT', path: '/notes', body: 'hello' });
    expect(sys.logs()).not.toContain('grpc-secret-9');
  });

  it('looks a connection up, with the fields of the .proto', async () => {
    const [found] = await grpc([{ rpc: 'GetConnection', request: { link_name: 'local' }, metadata: as(readOnly) }]);
    expect(found).toEqual({
      ok: true,
      response: expect.objectContaining({ name: 'Local', link_name: 'local', service: 'local_api', service_type: 'custom', auth_type: 'api_key', status: 'connected', owner: 'alice', internal: false }),
    });
    expect(found.response.last_authorized_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(found.response).not.toHaveProperty('revoked_reason');
  });

  it('answers errors with gRPC status codes and the Plugboard code: NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT, FAILED_PRECONDITION', async () => {
    expect((await sys.call('POST', '/v1/connections', member, { name: 'Pending', linkName: 'pending', service: 'local_api' })).status).toBe(201);
    const [unknown, otherOrg, readOnlyInvoke, badMethod, badJson, pending] = await grpc([
      { rpc: 'GetConnection', request: { link_name: 'nope' }, metadata: as(member) },
      { rpc: 'Invoke', request: { connection: 'local', method: 'GET', url: '/' }, metadata: as(await sys.key('globex', 'admin')) },
      { rpc: 'Invoke', request: { connection: 'local', method: 'GET', url: '/' }, metadata: as(readOnly) },
      { rpc: 'Invoke', request: { connection: 'local', method: 'FETCH', url: '/' }, metadata: as(member) },
      { rpc: 'Invoke', request: { connection: 'local', method: 'POST', url: '/', body_json: '{oops' }, metadata: as(member) },
      { rpc: 'Invoke', request: { connection: 'pending', method: 'GET', url: '/' }, metadata: as(member) },
    ]);
    expect(unknown).toMatchObject({ ok: false, code: status.NOT_FOUND, metadata: { 'plugboard-error-code': 'connection_not_found' } });
    expect(unknown.details).toContain('nope');
    expect(otherOrg).toMatchObject({ ok: false, code: status.NOT_FOUND, metadata: { 'plugboard-error-code': 'connection_not_found' } });
    expect(readOnlyInvoke).toMatchObject({ ok: false, code: status.PERMISSION_DENIED, metadata: { 'plugboard-error-code': 'forbidden' } });
    expect(badMethod).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'validation_failed' } });
    expect(JSON.parse(badMethod.metadata['plugboard-error-details'])).toEqual([{ path: 'invoke.method', message: expect.stringContaining('GET') }]);
    expect(badJson).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-details': expect.stringContaining('body_json') } });
    expect(pending).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION, metadata: { 'plugboard-error-code': 'connection_not_connected' } });
  });

  it('refuses JSON fields nested too deep (too_deeply_nested, not an internal error), and two x-user-id values, as REST does', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const [deepBody, deepDefinition, twoUsers] = await grpc([
      { rpc: 'Invoke', request: { connection: 'local', method: 'POST', url: '/', body_json: deep }, metadata: as(member) },
      { rpc: 'CreateService', request: { definition_json: `{"name": "Deep", "linkName": "deep", "authType": "api_key", "baseUrl": ${deep}}` }, metadata: as(member) },
      { rpc: 'GetConnection', request: { link_name: 'local' }, metadata: { authorization: `Bearer ${member}`, 'x-user-id': ['alice', 'mallory'] } },
    ]);
    expect(deepBody).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'too_deeply_nested' } });
    expect(deepDefinition).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'too_deeply_nested' } });
    expect(twoUsers).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'validation_failed' } });
    expect((await sys.call('GET', '/v1/services/deep', member)).status).toBe(404);
  });

  it('refuses a link name with control characters (CR/LF, NUL) or none, as REST refuses such a path: INVALID_ARGUMENT', async () => {
    const [crlf, nul, none] = await grpc([
      { rpc: 'GetConnection', request: { link_name: 'local\r\nX-Injected: 1' }, metadata: as(member) },
      { rpc: 'GetConnection', request: { link_name: 'local\u0000' }, metadata: as(member) },
      { rpc: 'GetConnection', request: {}, metadata: as(member) },
    ]);
    expect(crlf).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'invalid_characters' } });
    expect(nul).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'invalid_characters' } });
    expect(none).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT, metadata: { 'plugboard-error-code': 'validation_failed' } });
  });
});
