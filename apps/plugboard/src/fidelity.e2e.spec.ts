import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

/** Items 3 to 6 of issue #19: seed rules that main did not follow, each through the REST API. */
describe('seed fidelity: callback URLs, revoke for everyone, service validation, derived link names', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let member: string;
  let admin: string;

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem({ PLUGBOARD_REGION_URLS: 'eu=https://eu.plugboard.example,in=https://in.plugboard.example/' });
    member = await sys.key('acme', 'member');
    admin = await sys.key('acme', 'admin');
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
    await up?.close();
  });

  describe('callback URLs to register (item 3)', () => {
    const expected = (path: string) => [
      { region: null, url: `${sys.publicUrl}${path}` },
      { region: 'eu', url: `https://eu.plugboard.example${path}` },
      { region: 'in', url: `https://in.plugboard.example${path}` },
    ];

    it('are in the view of every OAuth service with a redirect: custom OAuth 2 and OAuth 1.0a, predefined, in lists too', async () => {
      const oauth2 = { grantType: 'authorization_code', clientId: 'c', clientSecret: 's', authorizeUrl: 'https://p.example/authorize', accessTokenUrl: 'https://p.example/token', paramType: 'header' };
      expect((await sys.call('POST', '/v1/services', member, { name: 'Code', linkName: 'code_flow', authType: 'oauth2', oauth2 })).body.callbackUrls).toEqual(expected('/v1/oauth/callback'));
      const oauth1 = { consumerKey: 'k', consumerSecret: 's', requestTokenUrl: 'https://p.example/rt', authorizeUrl: 'https://p.example/a', accessTokenUrl: 'https://p.example/at', paramType: 'header' };
      expect((await sys.call('POST', '/v1/services', member, { name: 'Legacy', linkName: 'legacy', authType: 'oauth1', oauth1 })).status).toBe(201);
      expect((await sys.call('GET', '/v1/services/legacy', member)).body.callbackUrls).toEqual(expected('/v1/oauth1/callback'));
      expect((await sys.call('GET', '/v1/services/google', member)).body.callbackUrls).toEqual(expected('/v1/oauth/callback'));
      const listed = await sys.call('GET', '/v1/services?type=custom', member);
      expect(listed.body.items.find((s: { linkName: string }) => s.linkName === 'code_flow').callbackUrls).toEqual(expected('/v1/oauth/callback'));
    });

    it('are absent where no redirect happens: client credentials, API key, Basic', async () => {
      const machine = { grantType: 'client_credentials', clientId: 'c', clientSecret: 's', accessTokenUrl: 'https://p.example/token', paramType: 'header' };
      expect((await sys.call('POST', '/v1/services', member, { name: 'Machine', linkName: 'machine', authType: 'oauth2', oauth2: machine })).body).not.toHaveProperty('callbackUrls');
      expect((await sys.call('POST', '/v1/services', member, { name: 'Plain', linkName: 'plain', authType: 'basic', baseUrl: up.base })).body).not.toHaveProperty('callbackUrls');
    });
  });

  describe('validation where the owner fills the service in (item 5)', () => {
    const keyService = (linkName: string, params: object[]) => ({ name: linkName, linkName, authType: 'api_key', baseUrl: up.base, apiKey: { params } });
    const params = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, displayName: `P${i}`, paramType: i % 3 === 0 ? 'header' : i % 3 === 1 ? 'query' : 'form' }));

    it('takes 100 API key parameters', async () => {
      expect((await sys.call('POST', '/v1/services', member, keyService('many_keys', params(100)))).status).toBe(201);
      expect((await sys.call('GET', '/v1/services/many_keys', member)).body.apiKey.params).toHaveLength(100);
    });

    it('refuses a parameter name used twice, and an authorization-code service without an Authorize URL, changing nothing', async () => {
      const twice = await sys.call('POST', '/v1/services', member, keyService('twice', [params(1)[0], { ...params(1)[0], paramType: 'query' }]));
      expect({ status: twice.status, code: twice.body.error.code, path: twice.body.error.details[0].path }).toEqual({ status: 400, code: 'validation_failed', path: 'service.apiKey.params.1.name' });
      const oauth2 = { grantType: 'authorization_code', clientId: 'c', clientSecret: 's', accessTokenUrl: 'https://p.example/token', paramType: 'header' };
      const noAuthorize = await sys.call('POST', '/v1/services', member, { name: 'No authorize', linkName: 'no_authorize', authType: 'oauth2', oauth2 });
      expect({ status: noAuthorize.status, message: noAuthorize.body.error.message }).toEqual({ status: 400, message: expect.stringContaining('oauth2.authorizeUrl: is required for the authorization_code grant type') });
      for (const linkName of ['twice', 'no_authorize']) expect((await sys.call('GET', `/v1/services/${linkName}`, member)).status).toBe(404);
    });
  });

  describe('link names derived from names (item 6)', () => {
    it('derives one from the name, adding a number when it is taken; a given one is taken as it is', async () => {
      const create = (body: object) => sys.call('POST', '/v1/connections', member, { service: 'plain', ...body });
      expect((await create({ name: 'Sales CRM (EU)' })).body).toMatchObject({ linkName: 'sales_crm_eu', name: 'Sales CRM (EU)' });
      expect((await create({ name: 'Sales – CRM eu' })).body.linkName).toBe('sales_crm_eu_2');
      expect((await create({ name: '2024 Café' })).body.linkName).toBe('c_2024_cafe');
      const taken = await create({ name: 'Again', linkName: 'sales_crm_eu' });
      expect({ status: taken.status, code: taken.body.error.code }).toEqual({ status: 409, code: 'link_name_taken' });
    });
  });

  describe('revoke every user’s credential at once (item 4)', () => {
    const revokedEvents = async () =>
      (await sys.sql(`SELECT data FROM events WHERE type = 'ConnectionRevoked' AND data->>'linkName' = 'team_api' ORDER BY global_position`)).map((r) => r.data);
    const invokeAs = async (user: string) => (await sys.call('POST', '/v1/invoke', member, { connection: 'team_api', method: 'GET', url: '/whoami' }, user)).body;

    beforeAll(async () => {
      expect((await sys.call('POST', '/v1/connections', member, { name: 'Team API', linkName: 'team_api', service: 'plain', useLoginUserCredentials: true })).status).toBe(201);
      for (const user of ['alice', 'bob', 'carol']) {
        expect((await sys.call('POST', '/v1/connections/team_api/authorize', member, { username: user, password: `pw-${user}` }, user)).status).toBe(200);
      }
    });

    it('refuses a member who is not the owner, and a body it does not know', async () => {
      const bob = await sys.call('POST', '/v1/connections/team_api/revoke', member, { all: true }, 'bob');
      expect({ status: bob.status, code: bob.body.error.code }).toEqual({ status: 403, code: 'not_owner' });
      const odd = await sys.call('POST', '/v1/connections/team_api/revoke', member, { everyone: true });
      expect({ status: odd.status, code: odd.body.error.code }).toEqual({ status: 400, code: 'validation_failed' });
      expect(await revokedEvents()).toEqual([]);
      expect((await invokeAs('bob')).status).toBe(200);
    });

    it('the owner stops it for everyone: each credential revoked once, recorded per user; a user authorizes again afterwards', async () => {
      // Several requests at once (a double click, a retry): still one revocation per credential.
      const answers = await Promise.all(Array.from({ length: 4 }, () => sys.call('POST', '/v1/connections/team_api/revoke', member, { all: true }, 'alice')));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      const events = await revokedEvents();
      expect(events.map((e) => [e.userId, e.reason, e.revokedBy]).sort()).toEqual([
        ['alice', 'revoked_for_all', 'alice'],
        ['bob', 'revoked_for_all', 'alice'],
        ['carol', 'revoked_for_all', 'alice'],
      ]);
      for (const user of ['alice', 'bob', 'carol']) expect((await invokeAs(user)).error.code).toBe('connection_revoked');
      const bobsView = await sys.call('GET', '/v1/connections/team_api', member, undefined, 'bob');
      expect(bobsView.body).toMatchObject({ status: 'revoked', revokedReason: 'revoked_for_all' });
      expect((await sys.call('POST', '/v1/connections/team_api/authorize', member, { username: 'bob', password: 'pw-bob' }, 'bob')).status).toBe(200);
      expect((await invokeAs('bob')).status).toBe(200);
    });

    it('an admin who is not the owner may do it too', async () => {
      const answer = await sys.call('POST', '/v1/connections/team_api/revoke', admin, { all: true }, 'erin');
      expect(answer.status).toBe(200);
      expect((await revokedEvents()).slice(3).map((e) => [e.userId, e.reason, e.revokedBy])).toEqual([['bob', 'revoked_for_all', 'erin']]);
    });
  });
});
