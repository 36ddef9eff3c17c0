import { Subjects } from '@plugboard/contracts';
import { eventually } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

const apiKeyService = {
  name: 'Acme CRM',
  linkName: 'acme_crm',
  authType: 'api_key',
  baseUrl: 'https://api.acme.example/v2',
  apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
};
const oauth2Service = {
  name: 'Acme OAuth',
  linkName: 'acme_oauth',
  authType: 'oauth2',
  baseUrl: 'https://api.acme.example',
  oauth2: {
    grantType: 'authorization_code',
    clientId: 'client-1',
    clientSecret: 'first-client-secret-7f3a',
    authorizeUrl: 'https://auth.acme.example/authorize',
    accessTokenUrl: 'https://auth.acme.example/token',
    refreshTokenUrl: 'https://auth.acme.example/token',
    paramType: 'header',
    scopes: [{ name: 'crm.read', displayName: 'Read CRM' }],
    scopeDelimiter: 'space',
  },
};
const oauth1Service = {
  name: 'Acme Legacy',
  linkName: 'acme_legacy',
  authType: 'oauth1',
  baseUrl: 'https://legacy.acme.example',
  oauth1: {
    consumerKey: 'ck-1',
    consumerSecret: 'consumer-secret-91b2',
    requestTokenUrl: 'https://legacy.acme.example/oauth/request_token',
    authorizeUrl: 'https://legacy.acme.example/oauth/authorize',
    accessTokenUrl: 'https://legacy.acme.example/oauth/access_token',
    paramType: 'header',
  },
};
const basicService = { name: 'Acme Basic', linkName: 'acme_basic', authType: 'basic', baseUrl: 'https://basic.acme.example' };
const clientCredentialsService = {
  name: 'Acme Machine',
  linkName: 'acme_machine',
  authType: 'oauth2',
  oauth2: { grantType: 'client_credentials', clientId: 'm2m', clientSecret: 'm2m-secret-55c1', accessTokenUrl: 'https://auth.acme.example/token', paramType: 'header' },
};

describe('services through the gateway', () => {
  let sys: TestSystem & { publicUrl: string };
  let alice: string;
  let reader: string;
  let globex: string;

  beforeAll(async () => {
    sys = await startTestSystem();
    alice = await sys.key('acme', 'member');
    reader = await sys.key('acme', 'read_only');
    globex = await sys.key('globex', 'admin');
  }, 60_000);
  afterAll(() => sys.close());

  const eventCount = async () => (await sys.sql(`SELECT count(*)::int AS n FROM events`))[0].n;

  describe('create and read, every auth type', () => {
    it('needs a key', async () => {
      expect((await sys.call('GET', '/v1/services', null)).status).toBe(401);
      expect((await sys.call('POST', '/v1/services', null, basicService)).status).toBe(401);
    });

    it.each([apiKeyService, oauth2Service, oauth1Service, basicService, clientCredentialsService])('creates and reads back $authType service $linkName', async (service) => {
      const created = await sys.call('POST', '/v1/services', alice, service);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: service.name, linkName: service.linkName, authType: service.authType, type: 'custom', owner: 'alice', connectionCount: 0 });
      expect(await sys.call('GET', `/v1/services/${service.linkName}`, reader)).toEqual({ status: 200, body: created.body });
      expect(JSON.stringify(created.body)).not.toMatch(/secret-/);
    });

    it('shows secrets masked and keeps them out of events and the read model', async () => {
      const { body } = await sys.call('GET', '/v1/services/acme_legacy', alice);
      expect(body.oauth1).toEqual({ ...oauth1Service.oauth1, consumerSecret: '********' });
      const stored = JSON.stringify(await sys.sql(`SELECT e.data, e.metadata FROM events e UNION ALL SELECT to_jsonb(s), '{}'::jsonb FROM services s`));
      for (const secret of ['first-client-secret-7f3a', 'consumer-secret-91b2', 'm2m-secret-55c1']) expect(stored).not.toContain(secret);
    });

    it('refuses the link name of a predefined service, and reads predefined services', async () => {
      const taken = await sys.call('POST', '/v1/services', alice, { ...basicService, linkName: 'github' });
      expect(taken.status).toBe(409);
      expect(taken.body.error).toEqual({ code: 'link_name_taken', message: '"github" is the link name of the predefined service GitHub. Choose another link name.' });
      const github = await sys.call('GET', '/v1/services/github', reader);
      expect(github.status).toBe(200);
      expect(github.body).toMatchObject({ type: 'predefined', authType: 'oauth2', owner: null, oauth2: { authorizeUrl: 'https://github.com/login/oauth/authorize' } });
      expect(github.body.oauth2.clientSecret).toBeUndefined();
    });

    it('hides one org’s services from another', async () => {
      expect((await sys.call('GET', '/v1/services/acme_crm', globex)).body.error.code).toBe('service_not_found');
      expect((await sys.call('PATCH', '/v1/services/acme_crm', globex, { name: 'Mine' })).body.error.code).toBe('service_not_found');
      expect((await sys.call('DELETE', '/v1/services/acme_crm', globex)).body.error.code).toBe('service_not_found');
      const list = await sys.call('GET', '/v1/services?type=custom', globex);
      expect(list.body.items).toEqual([]);
    });
  });

  describe('list and search', () => {
    it('merges predefined and custom services in link-name order and pages through all of them once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { linkName: string }[]; nextCursor: string | null } } = await sys.call('GET', `/v1/services?limit=17${cursor ? `&cursor=${cursor}` : ''}`, reader);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(17);
        seen.push(...page.body.items.map((s) => s.linkName));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(['acme_crm', 'acme_oauth', 'github', 'zoho_eu', 'shopify']));
      expect(seen.length).toBeGreaterThanOrEqual(60 + 5);
    });

    it('filters by type, auth type and text', async () => {
      const custom = await sys.call('GET', '/v1/services?type=custom', reader);
      expect(custom.body.items.map((s: { linkName: string }) => s.linkName)).toEqual(['acme_basic', 'acme_crm', 'acme_legacy', 'acme_machine', 'acme_oauth']);
      const oauth1 = await sys.call('GET', '/v1/services?authType=oauth1', reader);
      expect(oauth1.body.items.every((s: { authType: string }) => s.authType === 'oauth1')).toBe(true);
      expect(oauth1.body.items.map((s: { linkName: string }) => s.linkName)).toEqual(expect.arrayContaining(['acme_legacy', 'trello']));
      const zoho = await sys.call('GET', '/v1/services?q=ZOHO&type=predefined', reader);
      expect(zoho.body.items.map((s: { linkName: string }) => s.linkName)).toEqual(expect.arrayContaining(['zoho_com', 'zoho_eu', 'zoho_in', 'zoho_com_au', 'zoho_com_cn']));
    });

    it('refuses bad filters with a sentence', async () => {
      const bad = await sys.call('GET', '/v1/services?limit=0&authType=password', reader);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/limit: must be between 1 and 200/);
      expect(bad.body.error.message).toMatch(/authType/);
      expect((await sys.call('GET', '/v1/services?cursor=!!!', reader)).body.error.code).toBe('validation_failed');
      expect((await sys.call('GET', '/v1/services?colour=red', reader)).body.error.message).toMatch(/colour/);
    });
  });

  describe('edit, per seed 004', () => {
    it('lets the owner rename and add API key parameters; the read model follows', async () => {
      const params = [
        { name: 'api_key', displayName: 'Key', paramType: 'query' },
        { name: 'account', displayName: 'Account', paramType: 'header' },
      ];
      const edited = await sys.call('PATCH', '/v1/services/acme_crm', alice, { name: 'Acme CRM EU', apiKey: { params } });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ name: 'Acme CRM EU', apiKey: { params } });
      expect((await sys.call('GET', '/v1/services/acme_crm', reader)).body).toEqual(edited.body);
      const [event] = await sys.sql(`SELECT data FROM events WHERE type = 'ServiceEdited' AND stream_id = 'service-acme.acme_crm'`);
      expect(event.data).toMatchObject({ orgId: 'acme', linkName: 'acme_crm', changedFields: ['name', 'apiKey.params'], editedBy: 'alice' });
    });

    it('refuses every non-editable change with 422 naming the field and the rule, and changes nothing', async () => {
      const refused: [string, object, RegExp][] = [
        ['acme_crm', { linkName: 'renamed' }, /^linkName cannot be changed/],
        ['acme_crm', { authType: 'basic' }, /^authType cannot be changed/],
        ['acme_crm', { apiKey: { params: [{ name: 'account', displayName: 'Account', paramType: 'header' }] } }, /apiKey.params .*not removed \(missing: api_key\)/],
        ['acme_oauth', { oauth2: { grantType: 'client_credentials' } }, /^oauth2.grantType cannot be changed/],
        ['acme_oauth', { oauth2: { scopeDelimiter: 'comma' } }, /^oauth2.scopeDelimiter cannot be changed/],
        ['acme_oauth', { oauth2: { scopes: [] } }, /scopes can be added but not removed \(missing: crm.read\)/],
        ['acme_oauth', { oauth2: { scopes: [{ name: 'crm.read', displayName: 'Read everything' }] } }, /scopes can be added but not edited \(crm.read\)/],
        ['acme_basic', { apiKey: { params: [{ name: 'k', displayName: 'K', paramType: 'query' }] } }, /^apiKey cannot be changed: it does not apply/],
      ];
      for (const [linkName, changes, message] of refused) {
        const before = await sys.call('GET', `/v1/services/${linkName}`, alice);
        const events = await eventCount();
        const response = await sys.call('PATCH', `/v1/services/${linkName}`, alice, changes);
        expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 422, code: 'field_not_editable' });
        expect(response.body.error.message).toMatch(message);
        expect(await eventCount()).toBe(events);
        expect(await sys.call('GET', `/v1/services/${linkName}`, alice)).toEqual(before);
      }
    });

    it('lets only the owner edit, and never a predefined service', async () => {
      const bob = await sys.call('PATCH', '/v1/services/acme_oauth', alice, { name: 'Bob’s' }, 'bob');
      expect(bob).toEqual({ status: 403, body: { error: { code: 'not_owner', message: 'Only the owner of this service (alice) may edit it.' } } });
      expect((await sys.call('PATCH', '/v1/services/acme_oauth', reader, { name: 'Reader' })).status).toBe(403);
      const predefined = await sys.call('PATCH', '/v1/services/github', alice, { name: 'My GitHub' });
      expect(predefined.status).toBe(403);
      expect(predefined.body.error.code).toBe('service_read_only');
    });

    it('rotates an OAuth client secret: a new vault entry, the old one erased, no secret in the event', async () => {
      const before = await sys.sql(`SELECT id FROM vault_entries WHERE purpose = 'service.acme_oauth.secret'`);
      const scopes = [...oauth2Service.oauth2.scopes, { name: 'crm.write', displayName: 'Write CRM' }];
      const edited = await sys.call('PATCH', '/v1/services/acme_oauth', alice, { oauth2: { clientSecret: 'second-client-secret-88d0', scopes } });
      expect(edited.status).toBe(200);
      expect(edited.body.oauth2).toMatchObject({ clientSecret: '********', scopes });
      const after = await sys.sql(`SELECT id FROM vault_entries WHERE purpose = 'service.acme_oauth.secret'`);
      expect(after).toHaveLength(1);
      expect(after[0].id).not.toBe(before[0].id);
      const [event] = await sys.sql(`SELECT data FROM events WHERE type = 'ServiceEdited' AND stream_id = 'service-acme.acme_oauth'`);
      expect(event.data.changedFields).toEqual(['oauth2.scopes', 'oauth2.clientSecret']);
      expect(JSON.stringify(event)).not.toContain('second-client-secret-88d0');
    });

    it('records nothing when the edit changes nothing, the same secret included', async () => {
      const events = await eventCount();
      const same = await sys.call('PATCH', '/v1/services/acme_oauth', alice, { name: 'Acme OAuth', oauth2: { clientSecret: 'second-client-secret-88d0' } });
      expect(same.status).toBe(200);
      expect(await eventCount()).toBe(events);
    });

    it('refuses malformed edits', async () => {
      expect((await sys.call('PATCH', '/v1/services/acme_basic', alice, '{"name":')).body.error.code).toBe('malformed_json');
      const long = await sys.call('PATCH', '/v1/services/acme_basic', alice, { name: 'n'.repeat(51) });
      expect(long.status).toBe(400);
      expect(long.body.error.message).toMatch(/changes.name: must be 50 characters or fewer/);
      expect((await sys.call('PATCH', '/v1/services/acme_basic', alice, { colour: 'red' })).body.error.message).toMatch(/colour/);
    });

    it('works as a NATS request too', async () => {
      const view = await sys.rpc.request(Subjects.registry.editService, { actor: { orgId: 'acme', userId: 'alice' }, linkName: 'acme_basic', changes: { name: 'Basic over NATS' } });
      expect(view.name).toBe('Basic over NATS');
      const page = await sys.rpc.request(Subjects.registry.listServices, { actor: { orgId: 'acme', userId: 'alice' }, type: 'custom', q: 'over nats' });
      expect(page.items.map((s) => s.linkName)).toEqual(['acme_basic']);
    });
  });

  describe('delete', () => {
    it('lets only the owner delete, never a predefined service', async () => {
      expect((await sys.call('DELETE', '/v1/services/acme_machine', alice, undefined, 'bob')).body.error.code).toBe('not_owner');
      expect((await sys.call('DELETE', '/v1/services/github', alice)).body.error.code).toBe('service_read_only');
    });

    it('refuses while the service has connections', async () => {
      expect((await sys.call('POST', '/v1/connections', alice, { name: 'Legacy', linkName: 'legacy_link', service: 'acme_legacy' })).status).toBe(201);
      // The count follows the connection streams (a log subscription): the refusal comes once it has counted this one.
      await eventually(async () => expect((await sys.call('GET', '/v1/services/acme_legacy', alice)).body.connectionCount).toBe(1));
      const refused = await sys.call('DELETE', '/v1/services/acme_legacy', alice);
      expect(refused).toEqual({ status: 409, body: { error: { code: 'service_in_use', message: 'This service still has 1 connection. Delete them first.' } } });
      expect((await sys.call('GET', '/v1/services/acme_legacy', alice)).status).toBe(200);
      expect((await sys.call('DELETE', '/v1/connections/legacy_link', alice)).status).toBe(204);
      await eventually(async () => expect((await sys.call('GET', '/v1/services/acme_legacy', alice)).body.connectionCount).toBe(0));
    });

    it('deletes, erases the secret, and frees the link name', async () => {
      // Another org's connections to its own service of the same link name do not count against this one.
      expect((await sys.call('POST', '/v1/services', globex, { ...basicService, linkName: 'acme_machine' })).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections', globex, { name: 'Theirs', linkName: 'theirs', service: 'acme_machine' })).status).toBe(201);
      expect((await sys.call('DELETE', '/v1/services/acme_machine', alice)).status).toBe(204);
      expect((await sys.call('GET', '/v1/services/acme_machine', alice)).body.error.code).toBe('service_not_found');
      expect(await sys.sql(`SELECT id FROM vault_entries WHERE purpose = 'service.acme_machine.secret'`)).toEqual([]);
      expect((await sys.call('DELETE', '/v1/services/acme_machine', alice)).status).toBe(404);
      const again = await sys.call('POST', '/v1/services', alice, clientCredentialsService);
      expect(again.status).toBe(201);
    });
  });

  it('carries a request id from the gateway, over the bus, into the events it caused and the logs', async () => {
    const create = (linkName: string, requestId?: string) =>
      fetch(`${sys.publicUrl}/v1/services`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
        body: JSON.stringify({ ...basicService, linkName }),
      });
    const given = await create('traced_one', 'trace-7f2c.1');
    expect({ status: given.status, id: given.headers.get('x-request-id') }).toEqual({ status: 201, id: 'trace-7f2c.1' });
    const generated = (await create('traced_two', 'not a valid id!')).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const events = await sys.sql(`SELECT data->>'linkName' AS service, metadata->>'correlationId' AS correlation FROM events WHERE type = 'ServiceCreated' AND data->>'linkName' LIKE 'traced_%' ORDER BY global_position`);
    expect(events).toEqual([
      { service: 'traced_one', correlation: 'trace-7f2c.1' },
      { service: 'traced_two', correlation: generated },
    ]);
    expect(sys.logs()).toContain('"id":"trace-7f2c.1"');
  });
});
