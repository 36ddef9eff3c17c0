import { eventually } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

const keyService = {
  name: 'Acme API',
  linkName: 'acme_api',
  authType: 'api_key',
  baseUrl: 'https://api.acme.example',
  apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }, { name: 'account', displayName: 'Account', paramType: 'query' }] },
};
const basicService = { name: 'Acme Basic', linkName: 'acme_basic', authType: 'basic', baseUrl: 'https://basic.acme.example' };
const oauthService = {
  name: 'Acme OAuth',
  linkName: 'acme_oauth',
  authType: 'oauth2',
  oauth2: {
    grantType: 'authorization_code',
    clientId: 'c',
    clientSecret: 's-1234',
    authorizeUrl: 'https://auth.acme.example/authorize',
    accessTokenUrl: 'https://auth.acme.example/token',
    paramType: 'header',
    scopes: [
      { name: 'read', displayName: 'Read' },
      { name: 'write', displayName: 'Write' },
    ],
  },
};
const API_KEY_VALUE = 'ak-live-4b1d9e0c-secret';

describe('connections through the gateway', () => {
  let sys: TestSystem;
  let alice: string;
  let globex: string;
  const bobCalls = (method: string, path: string, body?: unknown) => sys.call(method, path, alice, body, 'bob');

  beforeAll(async () => {
    sys = await startTestSystem();
    alice = await sys.key('acme', 'member');
    globex = await sys.key('globex', 'admin');
    for (const service of [keyService, basicService, oauthService]) expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
  }, 60_000);
  afterAll(() => sys.close());

  const vaultEntries = async (linkName: string) => (await sys.sql(`SELECT id FROM vault_entries WHERE purpose = $1`, [`connection.${linkName}.credential`])).length;

  it('needs a key, and refuses bad input with a sentence, creating nothing', async () => {
    expect((await sys.call('GET', '/v1/connections', null)).status).toBe(401);
    const cases: [unknown, RegExp][] = [
      [{ name: 'X', linkName: 'Bad Name', service: 'acme_api' }, /linkName/],
      [{ name: 'x'.repeat(51), linkName: 'long_name', service: 'acme_api' }, /name: must be 50 characters or fewer/],
      [{ name: 'X', linkName: 'no_service', service: 'nope' }, /service: no service with link name "nope"/],
      [{ name: 'X', linkName: 'bad_scope', service: 'acme_oauth', scopes: ['admin'] }, /does not offer admin/],
      [{ name: 'X', linkName: 'shop_no_param', service: 'shopify' }, /parameters.shop: is required/],
    ];
    for (const [body, message] of cases) {
      const response = await sys.call('POST', '/v1/connections', alice, body);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(message);
    }
    expect((await sys.call('GET', '/v1/connections', alice)).body.items).toEqual([]);
  });

  it('creates a pending connection, refuses its link name twice, and hides it from another org', async () => {
    const created = await sys.call('POST', '/v1/connections', alice, { name: 'Acme', linkName: 'acme', service: 'acme_api' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ linkName: 'acme', service: 'acme_api', serviceType: 'custom', authType: 'api_key', status: 'pending', owner: 'alice', scopes: [] });
    expect((await sys.call('POST', '/v1/connections', alice, { name: 'Again', linkName: 'acme', service: 'acme_basic' })).body.error.code).toBe('link_name_taken');
    for (const [method, path] of [['GET', '/v1/connections/acme'], ['POST', '/v1/connections/acme/revoke'], ['DELETE', '/v1/connections/acme']]) {
      const response = await sys.call(method, path, globex);
      expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 404, code: 'connection_not_found' });
    }
    expect((await sys.call('POST', '/v1/connections/acme/authorize', globex, { values: { api_key: 'x', account: 'y' } })).status).toBe(404);
    expect((await sys.call('GET', '/v1/services/acme_api', alice)).body.connectionCount).toBe(1);
  });

  it('authorizes an API key connection; the key is only in the vault', async () => {
    const missing = await sys.call('POST', '/v1/connections/acme/authorize', alice, { values: { api_key: API_KEY_VALUE } });
    expect(missing.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/needs account/) });
    expect(JSON.stringify(missing.body)).not.toContain(API_KEY_VALUE);
    const ok = await sys.call('POST', '/v1/connections/acme/authorize', alice, { values: { api_key: API_KEY_VALUE, account: 'acct-1' } });
    expect(ok.status).toBe(200);
    expect(ok.body.connection).toMatchObject({ status: 'connected', revokedReason: null });
    expect(ok.body.connection.lastAuthorizedAt).toEqual(expect.any(String));
    const stored = JSON.stringify(await sys.sql(`SELECT data, metadata FROM events UNION ALL SELECT to_jsonb(c), '{}' FROM connections c UNION ALL SELECT to_jsonb(k), '{}' FROM connection_credentials k`));
    expect(stored).not.toContain(API_KEY_VALUE);
    expect(await vaultEntries('acme')).toBe(1);
  });

  it('lets only the owner authorize, revoke, edit or delete a connection that is not per user', async () => {
    expect((await bobCalls('POST', '/v1/connections/acme/authorize', { values: { api_key: 'b', account: 'b' } })).body.error.code).toBe('not_owner');
    expect((await bobCalls('POST', '/v1/connections/acme/revoke')).body.error.code).toBe('not_owner');
    expect((await bobCalls('PATCH', '/v1/connections/acme', { name: 'Bob' })).body.error.code).toBe('not_owner');
    expect((await bobCalls('DELETE', '/v1/connections/acme')).body.error.code).toBe('not_owner');
    expect((await bobCalls('GET', '/v1/connections/acme')).body.status).toBe('connected');
  });

  it('revokes, and re-enables by authorizing again; the old credential is erased', async () => {
    const revoked = await sys.call('POST', '/v1/connections/acme/revoke', alice);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedReason: 'user' });
    const again = await sys.call('POST', '/v1/connections/acme/authorize', alice, { values: { api_key: 'ak-second', account: 'acct-1' } });
    expect(again.body.connection.status).toBe('connected');
    expect(await vaultEntries('acme')).toBe(1);
  });

  it('edits only the name and the scopes; a scope change on OAuth asks for re-authorization', async () => {
    expect((await sys.call('PATCH', '/v1/connections/acme', alice, { name: 'Acme Main' })).body.name).toBe('Acme Main');
    const fixed = await sys.call('PATCH', '/v1/connections/acme', alice, { service: 'acme_basic' });
    expect({ status: fixed.status, code: fixed.body.error.code }).toEqual({ status: 422, code: 'field_not_editable' });
    await sys.call('POST', '/v1/connections', alice, { name: 'OAuth', linkName: 'acme_o', service: 'acme_oauth', scopes: ['read'] });
    const rescoped = await sys.call('PATCH', '/v1/connections/acme_o', alice, { scopes: ['read', 'write'] });
    expect(rescoped.body).toMatchObject({ scopes: ['read', 'write'], reauthorizationRequired: true });
    const oauth = await sys.call('POST', '/v1/connections/acme_o/authorize', alice, {});
    expect(oauth.body.authorizeUrl).toMatch(/^https:\/\/auth\.acme\.example\/authorize\?.*scope=read,write$/);
  });

  it('with login-user credentials, each user authorizes their own and sees it as a shared connection', async () => {
    await sys.call('POST', '/v1/connections', alice, { name: 'Per user', linkName: 'per_user', service: 'acme_basic', useLoginUserCredentials: true });
    expect((await sys.call('POST', '/v1/connections/per_user/authorize', alice, { username: 'alice', password: 'alice-pw-1' })).body.connection.status).toBe('connected');
    expect((await bobCalls('GET', '/v1/connections/per_user')).body.status).toBe('pending');
    expect((await bobCalls('GET', '/v1/connections?view=shared')).body.items).toEqual([]);
    expect((await bobCalls('POST', '/v1/connections/per_user/authorize', { username: 'bob', password: 'bob-pw-2' })).body.connection.status).toBe('connected');
    expect((await bobCalls('GET', '/v1/connections?view=shared')).body.items.map((c: { linkName: string }) => c.linkName)).toEqual(['per_user']);
    expect((await sys.call('GET', '/v1/connections?view=own', alice)).body.items.map((c: { linkName: string }) => c.linkName)).toContain('per_user');
    expect((await bobCalls('POST', '/v1/connections/per_user/revoke')).body.status).toBe('revoked');
    expect((await sys.call('GET', '/v1/connections/per_user', alice)).body.status).toBe('connected');
    expect(await vaultEntries('per_user')).toBe(2);
  });

  it('keeps internal connections revocable but never editable or deletable', async () => {
    await sys.call('POST', '/v1/connections', alice, { name: 'Internal', linkName: 'internal_one', service: 'acme_basic', internal: true });
    await sys.call('POST', '/v1/connections/internal_one/authorize', alice, { username: 'svc', password: 'svc-pw' });
    expect((await sys.call('PATCH', '/v1/connections/internal_one', alice, { name: 'X' })).body.error.code).toBe('connection_internal');
    expect((await sys.call('DELETE', '/v1/connections/internal_one', alice)).body.error.code).toBe('connection_internal');
    expect((await sys.call('POST', '/v1/connections/internal_one/revoke', alice)).body.status).toBe('revoked');
    expect((await sys.call('GET', '/v1/connections?view=internal', alice)).body.items.map((c: { linkName: string }) => c.linkName)).toEqual(['internal_one']);
    expect((await sys.call('GET', '/v1/connections?view=own', alice)).body.items.map((c: { linkName: string }) => c.linkName)).not.toContain('internal_one');
  });

  it('revokes every connection of a custom service when the service is edited, each credential once', async () => {
    await sys.call('POST', '/v1/connections', alice, { name: 'Second', linkName: 'basic_two', service: 'acme_basic' });
    await sys.call('POST', '/v1/connections/basic_two/authorize', alice, { username: 'a', password: 'p' });
    const edited = await sys.call('PATCH', '/v1/services/acme_basic', alice, { name: 'Acme Basic v2' });
    expect(edited.status).toBe(200);
    await eventually(async () => {
      expect((await sys.call('GET', '/v1/connections/basic_two', alice)).body).toMatchObject({ status: 'revoked', revokedReason: 'service_edited' });
      expect((await sys.call('GET', '/v1/connections/per_user', alice)).body).toMatchObject({ status: 'revoked', revokedReason: 'service_edited' });
    });
    const revocations = await sys.sql(
      `SELECT stream_id, data->>'userId' AS user_id, count(*)::int AS n FROM events WHERE type = 'ConnectionRevoked' AND data->>'reason' = 'service_edited' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // per_user: alice's credential (bob had revoked his); basic_two; internal_one was already revoked.
    expect(revocations).toEqual([
      { stream_id: 'connection-acme.basic_two', user_id: null, n: 1 },
      { stream_id: 'connection-acme.per_user', user_id: 'alice', n: 1 },
    ]);
    expect((await sys.call('GET', '/v1/connections/acme', alice)).body.status).toBe('connected');
    const after = await sys.call('POST', '/v1/connections', alice, { name: 'After', linkName: 'after_edit', service: 'acme_basic' });
    expect(after.body.status).toBe('pending');
  });

  it('deletes a connection, erases its credentials, and lets its service be deleted once none remain', async () => {
    expect((await sys.call('DELETE', '/v1/services/acme_api', alice)).body.error.code).toBe('service_in_use');
    expect((await sys.call('DELETE', '/v1/connections/acme', alice)).status).toBe(204);
    expect((await sys.call('GET', '/v1/connections/acme', alice)).status).toBe(404);
    expect(await vaultEntries('acme')).toBe(0);
    expect((await sys.call('GET', '/v1/services/acme_api', alice)).body.connectionCount).toBe(0);
    expect((await sys.call('DELETE', '/v1/services/acme_api', alice)).status).toBe(204);
  });
});
