import { Plugboard, PlugboardError, type LoggedEventView, type ServiceView } from '@plugboard/sdk';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const API_SECRET = 'sdk-upstream-secret-31';

/** What a call threw, to assert on its code and status. */
async function failure(call: Promise<unknown>): Promise<PlugboardError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof PlugboardError)) throw new Error(`expected a PlugboardError, got ${String(error)}`);
  return error;
}

describe('the SDK against a running Plugboard', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let pb: Plugboard;

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem();
    pb = new Plugboard({ baseUrl: sys.publicUrl, apiKey: await sys.key('acme', 'admin'), userId: 'alice' });
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
    await up?.close();
  });

  it('throws unauthenticated (401) for a wrong key, without the key in the error', async () => {
    const error = await failure(new Plugboard({ baseUrl: sys.publicUrl, apiKey: 'pb_wrong-key-value' }).services.list());
    expect(error).toMatchObject({ code: 'unauthenticated', status: 401, message: expect.stringContaining('Bearer') });
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('pb_wrong-key-value');
  });

  it('creates a service and a connection, authorizes it, and calls the API by invoke and by proxy', async () => {
    const service = await pb.services.create({
      name: 'Local API',
      linkName: 'local_api',
      authType: 'api_key',
      baseUrl: up.base,
      apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] },
    });
    expect(service).toMatchObject({ linkName: 'local_api', type: 'custom', owner: 'alice' });
    expect(await pb.services.get('local_api')).toMatchObject({ name: 'Local API' });
    expect(await pb.services.edit('local_api', { name: 'Local API (v2)' })).toMatchObject({ name: 'Local API (v2)' });

    expect(await pb.connections.create({ name: 'Local', linkName: 'local', service: 'local_api' })).toMatchObject({ status: 'pending', owner: 'alice' });
    const authorized = await pb.connections.authorize('local', { values: { 'X-Api-Key': API_SECRET } });
    expect(authorized).toEqual({ connection: expect.objectContaining({ linkName: 'local', status: 'connected' }) });
    expect((await pb.connections.snippet('local')).curl).toContain('/v1/invoke');

    const answer = await pb.invoke({ connection: 'local', method: 'POST', url: '/orders', query: { page: '3' }, body: { item: 'widget' } });
    expect(answer).toMatchObject({ status: 200, body: { ok: true, path: '/orders' }, headers: { 'x-upstream': 'yes' } });
    expect(up.seen.at(-1)).toMatchObject({ method: 'POST', path: '/orders', query: { page: '3' }, body: '{"item":"widget"}', headers: { 'x-api-key': API_SECRET } });

    const raw = await pb.proxy('local', '/reports/7?format=csv', { headers: { 'x-trace': 'p1' } });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ ok: true, path: '/reports/7' });
    expect(up.seen.at(-1)).toMatchObject({ method: 'GET', path: '/reports/7', query: { format: 'csv' }, headers: { 'x-api-key': API_SECRET, 'x-trace': 'p1' } });
    expect(up.seen.at(-1)?.headers.authorization).toBeUndefined();

    // Plugboard's own refusal through the proxy is an answer, not a throw.
    const missing = await pb.proxy('nope', '/');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'connection_not_found' } });
    expect(sys.logs()).not.toContain(API_SECRET);
  });

  it('throws each failure with Plugboard’s code, HTTP status and sentence', async () => {
    expect(await failure(pb.connections.get('nope'))).toMatchObject({ code: 'connection_not_found', status: 404, message: expect.stringContaining('nope') });
    expect(await failure(pb.services.create({ name: 'Again', linkName: 'local_api', authType: 'basic' }))).toMatchObject({ code: 'link_name_taken', status: 409 });
    const invalid = await failure(pb.services.create({ name: 'Bad', linkName: 'Bad Name', authType: 'basic' }));
    expect(invalid).toMatchObject({ code: 'validation_failed', status: 400, details: [{ path: 'service.linkName', message: expect.any(String) }] });
    expect(await failure(pb.withUser('bob').connections.edit('local', { name: 'Mine now' }))).toMatchObject({ code: 'not_owner', status: 403 });
    expect(await failure(pb.services.delete('local_api'))).toMatchObject({ code: 'service_in_use', status: 409 });
    const readOnly = new Plugboard({ baseUrl: sys.publicUrl, apiKey: await sys.key('acme', 'read_only') });
    expect(await failure(readOnly.invoke({ connection: 'local', method: 'GET', url: '/' }))).toMatchObject({ code: 'forbidden', status: 403 });
    const unreachable = new Plugboard({ baseUrl: 'http://127.0.0.1:9', apiKey: 'pb_x' });
    expect(await failure(unreachable.health())).toMatchObject({ code: 'network_error', status: 0 });
  });

  it('walks every page of a list with listAll, following nextCursor', async () => {
    const names = ['page_a', 'page_b', 'page_c', 'page_d', 'page_e'];
    for (const linkName of names) await pb.services.create({ name: linkName, linkName, authType: 'basic' });
    const first = await pb.services.list({ type: 'custom', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all: ServiceView[] = [];
    for await (const service of pb.services.listAll({ type: 'custom', limit: 2 })) all.push(service);
    expect(all.map((s) => s.linkName)).toEqual(['local_api', ...names].sort());
    const fromOnePage = await pb.services.list({ type: 'custom', limit: 200 });
    expect(fromOnePage.nextCursor).toBeNull();
    expect(all).toEqual(fromOnePage.items);
  });

  it('revokes and deletes a connection, then the service', async () => {
    expect(await pb.connections.revoke('local')).toMatchObject({ status: 'revoked', revokedReason: 'user' });
    expect(await failure(pb.invoke({ connection: 'local', method: 'GET', url: '/' }))).toMatchObject({ code: 'connection_revoked', status: 409 });
    await expect(pb.connections.delete('local')).resolves.toBeUndefined();
    await expect(pb.services.delete('local_api')).resolves.toBeUndefined();
    expect(await failure(pb.services.get('local_api'))).toMatchObject({ code: 'service_not_found', status: 404 });
  });

  it('manages the org’s webhook and API keys (admin), showing a key or a secret only once', async () => {
    const registered = await pb.webhook.register({ url: 'https://hooks.example.com/plugboard', events: ['ConnectionRevoked'] });
    expect(registered.secret).toMatch(/^whsec_/);
    expect(await pb.webhook.get()).toEqual(expect.objectContaining({ url: 'https://hooks.example.com/plugboard', events: ['ConnectionRevoked'] }));
    await pb.webhook.remove();
    expect(await failure(pb.webhook.get())).toMatchObject({ code: 'webhook_not_found', status: 404 });

    const created = await pb.keys.create({ role: 'read_only', actAs: 'any', label: 'reports' });
    expect(created.apiKey).toMatchObject({ role: 'read_only', user: null, actAs: 'any', label: 'reports', revokedAt: null, prefix: created.key.slice(0, 9) });
    const reader = new Plugboard({ baseUrl: sys.publicUrl, apiKey: created.key });
    expect((await reader.services.list({ limit: 1 })).items).toHaveLength(1);
    expect(await failure(reader.keys.list())).toMatchObject({ code: 'forbidden', status: 403 });
    const listed = await pb.keys.list();
    expect(listed.find((k) => k.id === created.apiKey.id)).toMatchObject({ label: 'reports' });
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(await pb.keys.revoke(created.apiKey.id)).toMatchObject({ id: created.apiKey.id, revokedAt: expect.any(String) });
    expect(await failure(reader.services.list())).toMatchObject({ code: 'unauthenticated', status: 401 });
    const otherOrg = new Plugboard({ baseUrl: sys.publicUrl, apiKey: await sys.key('globex', 'admin') });
    expect(await failure(otherOrg.keys.revoke(listed[0].id))).toMatchObject({ code: 'not_found', status: 404 });
    expect(await failure(pb.keys.create({ role: 'owner' as never, actAs: 'any' }))).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(await failure(pb.keys.create({ role: 'member' }))).toMatchObject({ code: 'validation_failed', status: 400 });
    // A person's key says who it is, and makes connect links for that person only.
    const person = new Plugboard({ baseUrl: sys.publicUrl, apiKey: (await pb.keys.create({ role: 'member', user: 'alice' })).key });
    expect(await person.session()).toMatchObject({ signedIn: true, orgId: 'acme', userId: 'alice', role: 'member', via: 'api_key' });
    await pb.services.create({ name: 'Team', linkName: 'team_api', authType: 'basic' });
    await pb.connections.create({ name: 'Team', linkName: 'team', service: 'team_api', useLoginUserCredentials: true });
    expect((await person.connectLinks.create({ connection: 'team' })).url).toMatch(/\/console\/connect\/cl_/);
    expect(await failure(person.connectLinks.create({ connection: 'team', user: 'bob' }))).toMatchObject({ code: 'user_mismatch', status: 403 });
  });

  it('reads the org’s audit trail across pages, and carries on after the last position kept (admin)', async () => {
    const trail: LoggedEventView[] = [];
    for await (const event of pb.events.listAll({ limit: 3 })) trail.push(event);
    expect(trail.length).toBeGreaterThan(10);
    expect(trail.filter((e) => e.streamId === 'connection-acme.local').map((e) => e.type)).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'ConnectionRevoked', 'ConnectionDeleted']);
    expect((await pb.events.list({ after: trail[4].position, limit: 2 })).items).toEqual(trail.slice(5, 7));
    const member = new Plugboard({ baseUrl: sys.publicUrl, apiKey: await sys.key('acme', 'member') });
    expect(await failure(member.events.list())).toMatchObject({ code: 'forbidden', status: 403 });
  });
});
