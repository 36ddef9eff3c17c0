import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { credentials, loadPackageDefinition, Metadata, status, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PLUGBOARD_PROTO_PATH } from '@plugboard/contracts';
import { freePort } from '@plugboard/runtime';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const execFileAsync = promisify(execFile);

/**
 * A product team's gRPC client (test-support/grpc-product.mjs): plain Node with @grpc/grpc-js, @grpc/proto-loader and
 * the .proto the SDK publishes (the same file: libs/sdk's package test checks the copy). It runs in its own process
 * and does the whole round trip and the abuse cases; this test judges what each step answered and what Plugboard kept.
 */
describe('gRPC from another team: the full operation set, reflection and WatchEvents', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let out: Record<string, any>;
  let address: string;
  const refused = (code: number, errorCode: string) => ({ ok: false, code, errorCode });

  beforeAll(async () => {
    up = await startUpstream();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    sys = await startTestSystem({ GRPC_PORT: String(port) });
    // Another org's service and connection exist before the watch starts: its events are in the log from position 0.
    const globexAdmin = await sys.key('globex', 'admin');
    const globexService = { name: 'Globex API', linkName: 'globex_old', authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
    expect((await sys.call('POST', '/v1/services', globexAdmin, globexService)).status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', globexAdmin, { name: 'Globex CRM', linkName: 'globex_crm', service: 'globex_old' })).status).toBe(201);
    const keys = { admin: await sys.key('acme', 'admin'), alice: await sys.key('acme', 'member', 'alice'), globex: globexAdmin };
    const script = path.join(__dirname, 'test-support/grpc-product.mjs');
    const { stdout } = await execFileAsync(process.execPath, [script, PLUGBOARD_PROTO_PATH, address, JSON.stringify({ keys, upstream: up.base })], { timeout: 90_000 });
    out = JSON.parse(stdout);
  }, 120_000);
  afterAll(async () => {
    await sys?.close().catch(() => undefined);
    await up?.close();
  });

  it('lists Plugboard and its operations through server reflection', () => {
    expect(out.reflectedServices).toEqual(expect.arrayContaining(['plugboard.v1.Plugboard']));
    expect(out.reflectedMethods).toEqual(['WatchEvents', 'CreateService', 'AuthorizeConnection']);
  });

  it('creates a service and a connection, authorizes it with an API key and invokes the API with that key', () => {
    expect(out.createService).toMatchObject({ ok: true, response: { link_name: 'product_api', type: 'custom', auth_type: 'api_key', owner: 'alice', base_url: up.base } });
    expect(JSON.parse(out.createService.response.definition_json)).toMatchObject({ apiKey: { params: [{ name: 'X-Api-Key' }] } });
    expect(out.getService).toMatchObject({ ok: true, response: { link_name: 'product_api' } });
    expect(out.listServices.response.items.map((s: { link_name: string }) => s.link_name)).toEqual(['product_api']);
    expect(out.createConnection).toMatchObject({ ok: true, response: { link_name: 'crm', service: 'product_api', status: 'pending', owner: 'alice' } });
    expect(out.authorize).toMatchObject({ ok: true, response: { result: 'connection', connection: { link_name: 'crm', status: 'connected' } } });
    expect(out.invoke).toMatchObject({ ok: true, response: { status: 200, body: 'body_json' } });
    expect(JSON.parse(out.invoke.response.body_json)).toEqual({ ok: true, path: '/things' });
    // The one call that reached the API carried the key authorized over gRPC.
    expect(up.seen.map((seen) => [seen.path, seen.headers['x-api-key']])).toEqual([['/things', 'product-secret-7']]);
    expect(sys.logs()).not.toContain('product-secret-7');
  });

  it('edits, lists, gives a snippet and a connect link, revokes, then refuses to invoke: connection_revoked', () => {
    expect(out.editConnection).toMatchObject({ ok: true, response: { name: 'Product CRM (prod)' } });
    expect(out.listConnections.response.items.map((c: { link_name: string }) => c.link_name)).toEqual(['crm']);
    expect(out.snippet.response.curl).toContain('"connection":"crm"');
    expect(out.connectLink).toMatchObject({ ok: true, response: { url: expect.stringContaining(`${sys.publicUrl}/`) } });
    expect(out.revoke).toMatchObject({ ok: true, response: { status: 'revoked', revoked_reason: 'user' } });
    expect(out.invokeRevoked).toEqual(expect.objectContaining(refused(status.FAILED_PRECONDITION, 'connection_revoked')));
    expect(out.scratchService.ok && out.editService.ok).toBe(true);
    expect(out.editService.response.name).toBe('Scratch');
    expect(out.deleteService).toEqual({ ok: true, response: {} });
  });

  it('streams the org’s events as they happen, from a position, and ends when the client cancels', () => {
    expect(out.watchSawAll).toBe(true);
    expect(out.watchEnded).toEqual({ code: status.CANCELLED });
    const types = out.watched.map((event: { type: string }) => event.type);
    expect(types).toEqual(['ServiceCreated', 'ConnectionCreated', 'ConnectionAuthorized', 'ConnectionEdited', 'ConnectionRevoked', 'ServiceCreated', 'ServiceEdited', 'ServiceDeleted']);
    const positions = out.watched.map((event: { position: number }) => event.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(out.resumed).toEqual(out.watched.slice(1));
    expect(out.watchFromUnknownPosition).toEqual({ code: status.INVALID_ARGUMENT, errorCode: 'validation_failed' });
    expect(out.watchWithoutAdmin).toEqual({ code: status.PERMISSION_DENIED, errorCode: 'forbidden' });
  });

  it('never streams another org’s events, though they happened before and during the watch', () => {
    expect(out.otherOrgCreateService).toMatchObject({ ok: true, response: { link_name: 'globex_api' } });
    expect(new Set(out.watched.map((event: { orgId: string }) => event.orgId))).toEqual(new Set(['acme']));
    expect(JSON.stringify(out.watched)).not.toMatch(/globex/);
  });

  it('refuses the abuse cases with the mapped status and code, and each refusal changes nothing', async () => {
    expect(out.createServiceWithoutKey).toEqual(expect.objectContaining(refused(status.UNAUTHENTICATED, 'unauthenticated')));
    expect(out.invokeWithoutKey).toEqual(expect.objectContaining(refused(status.UNAUTHENTICATED, 'unauthenticated')));
    expect(out.authorizeAsAnother).toEqual(expect.objectContaining(refused(status.PERMISSION_DENIED, 'user_mismatch')));
    expect(out.otherOrgGet).toEqual(expect.objectContaining(refused(status.NOT_FOUND, 'connection_not_found')));
    expect(out.otherOrgRevoke).toEqual(expect.objectContaining(refused(status.NOT_FOUND, 'connection_not_found')));
    expect(out.otherOrgInvoke).toEqual(expect.objectContaining(refused(status.NOT_FOUND, 'connection_not_found')));
    expect(out.createConnectionCrlf).toEqual(expect.objectContaining(refused(status.INVALID_ARGUMENT, 'validation_failed')));
    expect(out.createConnectLinkNul).toEqual(expect.objectContaining({ ok: false, code: status.INVALID_ARGUMENT }));
    // Nothing of them was recorded: acme's log is exactly the round trip's events, globex's connection untouched.
    const admin = await sys.key('acme', 'admin');
    const log = (await sys.call('GET', '/v1/events?limit=200', admin)).body.items.map((event: { type: string }) => event.type);
    expect(log).toEqual(out.watched.map((event: { type: string }) => event.type));
    expect((await sys.call('GET', '/v1/services/ghost_api', admin)).status).toBe(404);
    const globex = await sys.call('GET', '/v1/connections/globex_crm', await sys.key('globex', 'admin'));
    expect(globex.body).toMatchObject({ name: 'Globex CRM', status: 'pending' });
    // The stolen key never replaced the authorized one: the API only ever saw the real key.
    expect(up.seen.every((seen) => seen.headers['x-api-key'] === 'product-secret-7')).toBe(true);
  });

  // Last: it stops the system.
  it('stops the gateway with a watch open: the stream ends and shutdown does not wait for it', async () => {
    const v1 = (loadPackageDefinition(loadSync(PLUGBOARD_PROTO_PATH)).plugboard as GrpcObject).v1 as GrpcObject;
    const client = new (v1.Plugboard as ServiceClientConstructor)(address, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await sys.key('acme', 'admin')}`);
    const stream = client.WatchEvents({ after: 0 }, metadata);
    const ended = new Promise((resolve) => {
      stream.on('end', () => resolve('end'));
      stream.on('error', (error: { code: number }) => resolve(error.code));
    });
    await new Promise((resolve) => stream.once('data', resolve));
    const started = Date.now();
    await sys.close();
    expect(await ended).toBe('end');
    expect(Date.now() - started).toBeLessThan(10_000);
    client.close();
  }, 30_000);
});
