import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { status as grpcStatus } from '@grpc/grpc-js';
import { PLUGBOARD_PROTO_PATH, Subjects, type StoredCredential } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { freePort } from '@plugboard/runtime';
import { WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const execFileAsync = promisify(execFile);

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * People, tried as an attacker would: keys bound to their subject (a person's key acts as its user only, on REST,
 * gRPC and /v1/proxy), console sessions (one-time sign-in links, a cookie that acts as its person only and changes
 * nothing from another site), and connect links (single use, expiring, tied to org, connection and user, OAuth
 * completed only in the browser that started it), against the real gateway, NATS, PostgreSQL and oidc-provider.
 */
describe('people', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let as: TestAuthorizationServer;
  let base: string;
  let grpcAddress: string;
  /** Keys: a product's (acts for anyone it names), alice's and bob's (act as themselves), another org's product key. */
  let product: string;
  let alice: string;
  let bob: string;
  let globex: string;
  const tokens: string[] = [];

  async function http(method: string, route: string, options: { key?: string; user?: string; body?: unknown; cookie?: string; origin?: string; form?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.user !== undefined) headers['x-user-id'] = options.user;
    if (options.cookie) headers.cookie = options.cookie;
    if (options.origin) headers.origin = options.origin;
    let body: string | undefined;
    if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = options.form;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(`${base}${route}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // an HTML page
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** The cookies a response set, as a Cookie header. */
  const cookiesOf = (answer: Answer) =>
    answer.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

  async function grpc(calls: { rpc: 'Invoke'; request: object; metadata: Record<string, string> }[]): Promise<any[]> {
    const entry = path.join('apps/plugboard/src/test-support/grpc-client.ts');
    const { stdout } = await execFileAsync(process.execPath, ['tools/run.js', entry, PLUGBOARD_PROTO_PATH, grpcAddress, JSON.stringify(calls)], { cwd: WORKSPACE_ROOT, timeout: 30_000 });
    return stdout.trim().split('\n').map((line) => JSON.parse(line));
  }

  /** A header line as the socket carries it, bytes and all (fetch refuses to send CR, LF or NUL). */
  function raw(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(request));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  beforeAll(async () => {
    up = await startUpstream();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const grpcPort = await freePort();
    grpcAddress = `127.0.0.1:${grpcPort}`;
    as = await startAuthorizationServer({ redirectUris: [`${base}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    sys = await startTestSystem({ PORT: String(port), PLUGBOARD_PUBLIC_URL: base, GRPC_PORT: String(grpcPort), PLUGBOARD_RETURN_URL_ORIGINS: 'https://app.example' });
    product = await sys.key('acme', 'member');
    alice = await sys.key('acme', 'member', 'alice');
    bob = await sys.key('acme', 'member', 'bob');
    globex = await sys.key('globex', 'admin');
    const ok = async (method: string, route: string, key: string, body: unknown) => {
      const answer = await http(method, route, { key, body });
      if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    const apiKey = { authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Team API key', paramType: 'header' }] } };
    await ok('POST', '/v1/services', alice, { name: 'Team CRM', linkName: 'team_crm_api', ...apiKey });
    await ok('POST', '/v1/services', globex, { name: 'Team CRM', linkName: 'team_crm_api', ...apiKey });
    await ok('POST', '/v1/services', alice, {
      name: 'Team Drive',
      linkName: 'team_drive_api',
      authType: 'oauth2',
      baseUrl: up.base,
      oauth2: {
        grantType: 'authorization_code',
        clientId: as.clients.basic.clientId,
        clientSecret: as.clients.basic.clientSecret,
        authorizeUrl: as.authorizeUrl,
        accessTokenUrl: as.tokenUrl,
        paramType: 'header',
        scopes: [{ name: 'api:read', displayName: 'Read your files' }],
      },
    });
    // Each user authorizes their own credential of these; `alice_own` is alice's and takes hers only.
    await ok('POST', '/v1/connections', alice, { name: 'Team CRM', linkName: 'team_crm', service: 'team_crm_api', useLoginUserCredentials: true });
    await ok('POST', '/v1/connections', globex, { name: 'Team CRM', linkName: 'team_crm', service: 'team_crm_api', useLoginUserCredentials: true });
    await ok('POST', '/v1/connections', alice, { name: 'Team Drive', linkName: 'team_drive', service: 'team_drive_api', useLoginUserCredentials: true, scopes: ['api:read'] });
    await ok('POST', '/v1/connections', alice, { name: 'Alice only', linkName: 'alice_own', service: 'team_crm_api' });
    await ok('POST', '/v1/connections/team_crm/authorize', alice, { values: { 'X-Api-Key': 'alice-personal-key-1' } });
  }, 120_000);

  afterAll(async () => {
    await as?.stop();
    await sys?.close();
    await up?.close();
  });

  describe('keys bound to their subject', () => {
    it('makes a person’s key with {role, user} and a product’s with {role, actAs: "any"}, and nothing else', async () => {
      const admin = await sys.key('acme', 'admin');
      expect((await http('POST', '/v1/keys', { body: { role: 'member', user: 'carol' } })).status).toBe(401);
      const person = await http('POST', '/v1/keys', { key: admin, body: { role: 'member', user: 'carol', label: 'Carol' } });
      expect(person.status).toBe(201);
      expect(person.body.apiKey).toMatchObject({ role: 'member', user: 'carol', actAs: null, label: 'Carol' });
      const service = await http('POST', '/v1/keys', { key: admin, body: { role: 'member', actAs: 'any' } });
      expect(service.body.apiKey).toMatchObject({ user: null, actAs: 'any' });
      for (const body of [{ role: 'member' }, { role: 'member', user: 'carol', actAs: 'any' }, { role: 'member', actAs: 'all' }, { role: 'member', user: 'carol\r\nX-User-Id: admin' }, { role: 'member', user: '' }]) {
        const refused = await http('POST', '/v1/keys', { key: admin, body });
        expect({ body, code: refused.body.error?.code }).toEqual({ body, code: 'validation_failed' });
      }
      expect((await http('POST', '/v1/keys', { key: admin, body: '{"role":"member","user":"carol\\u0000"}' })).body.error.code).toBe('invalid_characters');
      // Carol's key acts as carol with no header at all.
      const created = await http('POST', '/v1/connections', { key: person.body.key, body: { name: 'Carol’s', linkName: 'carol_own', service: 'team_crm_api' } });
      expect(created.body.owner).toBe('carol');
    });

    it('refuses X-User-Id naming anyone else with a person’s key, on REST (403 user_mismatch), and changes nothing', async () => {
      // The case: bob's key, naming alice, revoking alice's own credential.
      const revoke = await http('POST', '/v1/connections/team_crm/revoke', { key: bob, user: 'alice' });
      expect(revoke.status).toBe(403);
      expect(revoke.body.error).toMatchObject({ code: 'user_mismatch', message: expect.stringContaining('"bob" only') });
      expect((await http('POST', '/v1/invoke', { key: bob, user: 'alice', body: { connection: 'team_crm', method: 'GET', url: '/me' } })).body.error.code).toBe('user_mismatch');
      expect((await http('GET', '/v1/connections/team_crm', { key: alice })).body.status).toBe('connected');
      // Naming oneself is fine; a product's key may name anyone.
      expect((await http('GET', '/v1/connections/team_crm', { key: bob, user: 'bob' })).status).toBe(200);
      const asAlice = await http('POST', '/v1/invoke', { key: product, user: 'alice', body: { connection: 'team_crm', method: 'GET', url: '/me' } });
      expect(asAlice.status).toBe(200);
      expect(up.seen.at(-1)?.headers['x-api-key']).toBe('alice-personal-key-1');
    });

    it('refuses it on /v1/proxy and gRPC too', async () => {
      const proxied = await http('GET', '/v1/proxy/team_crm/me', { key: bob, user: 'alice' });
      expect(proxied.status).toBe(403);
      expect(proxied.body.error.code).toBe('user_mismatch');
      expect((await http('GET', '/v1/proxy/team_crm/me', { key: alice })).status).toBe(200);
      const [spoofed, own] = await grpc([
        { rpc: 'Invoke', request: { connection: 'team_crm', method: 'GET', url: '/me' }, metadata: { authorization: `Bearer ${bob}`, 'x-user-id': 'alice' } },
        { rpc: 'Invoke', request: { connection: 'team_crm', method: 'GET', url: '/me' }, metadata: { authorization: `Bearer ${alice}` } },
      ]);
      expect(spoofed).toMatchObject({ ok: false, code: grpcStatus.PERMISSION_DENIED, metadata: { 'plugboard-error-code': 'user_mismatch' } });
      expect(own).toMatchObject({ ok: true, response: { status: 200 } });
    }, 60_000);

    it('refuses user ids with CR, LF or NUL before any route sees them', async () => {
      for (const bytes of ['alice\rbob', 'alice\nbob', 'alice\u0000bob', 'alice\u0001']) {
        const answer = await raw(`GET /v1/connections/team_crm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${product}\r\nX-User-Id: ${bytes}\r\nConnection: close\r\n\r\n`);
        expect({ bytes, answer: answer.slice(0, 12) }).toEqual({ bytes, answer: 'HTTP/1.1 400' });
      }
      // Characters a header can carry but a user id cannot hold: 400, not someone else.
      for (const name of ['alice bob', 'alice,bob', 'älice', 'x'.repeat(129)]) {
        expect((await http('GET', '/v1/connections/team_crm', { key: product, user: name })).body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('console sessions', () => {
    it('says who is not signed in, and how one signs in', async () => {
      expect((await http('GET', '/v1/session')).body).toEqual({ signedIn: false, signIn: { oidc: { configured: false }, link: true } });
      expect((await http('GET', '/v1/session', { key: bob })).body).toMatchObject({ signedIn: true, orgId: 'acme', userId: 'bob', role: 'member', via: 'api_key', expiresAt: null });
      expect((await http('GET', '/v1/session', { key: bob, user: 'alice' })).body.error.code).toBe('user_mismatch');
    });

    it('signs in once with a sign-in link, as its person, and the link is used up', async () => {
      const token = await sys.signInToken();
      tokens.push(token);
      const signedIn = await http('POST', '/v1/session/sign-in', { body: { token }, origin: base });
      expect(signedIn.status).toBe(200);
      expect(signedIn.body).toMatchObject({ signedIn: true, orgId: 'default', userId: 'admin', role: 'admin', via: 'session' });
      const setCookie = signedIn.headers.getSetCookie().find((c) => c.startsWith('plugboard_session='));
      expect(setCookie).toMatch(/path=\//);
      expect(setCookie).toMatch(/httponly/i);
      expect(setCookie).toMatch(/samesite=lax/i);
      const cookie = cookiesOf(signedIn);
      expect((await http('GET', '/v1/session', { cookie })).body).toMatchObject({ signedIn: true, userId: 'admin', via: 'session' });
      // Replayed, or raced: refused.
      const replay = await http('POST', '/v1/session/sign-in', { body: { token } });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('sign_in_link_invalid');
      // A form post (no script) lands on the console, or back on the sign-in page with the reason.
      const formToken = await sys.signInToken();
      const form = await http('POST', '/v1/session/sign-in', { form: `token=${encodeURIComponent(formToken)}`, origin: base });
      expect(form.status).toBe(303);
      expect(form.headers.get('location')).toBe('/console');
      expect(cookiesOf(form)).toContain('plugboard_session=');
      const used = await http('POST', '/v1/session/sign-in', { form: `token=${encodeURIComponent(formToken)}` });
      expect(used.headers.get('location')).toBe('/console/sign-in?error=sign_in_link_invalid');
    });

    it('refuses an expired link, a forged cookie, and a sign-in posted from another site', async () => {
      const expired = await sys.signInToken(undefined, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await http('POST', '/v1/session/sign-in', { body: { token: expired } })).body.error.code).toBe('sign_in_link_invalid');
      const crossSite = await sys.signInToken();
      const refused = await http('POST', '/v1/session/sign-in', { body: { token: crossSite }, origin: 'https://evil.example' });
      expect(refused.body.error.code).toBe('cross_site_request');
      // It was not used up by the refusal.
      expect((await http('POST', '/v1/session/sign-in', { body: { token: crossSite } })).status).toBe(200);
      const forged = Buffer.from(JSON.stringify({ person: { orgId: 'acme', userId: 'alice', role: 'admin', displayName: 'x' }, expiresAt: Date.now() + 3600_000 })).toString('base64');
      for (const cookie of [`plugboard_session=${forged}`, `plugboard_session=${forged}; plugboard_session.sig=AAAA`]) {
        expect((await http('GET', '/v1/session', { cookie })).body.signedIn).toBe(false);
        expect((await http('GET', '/v1/connections', { cookie })).status).toBe(401);
      }
    });

    it('acts as its person only, and changes nothing for another site', async () => {
      const token = await sys.signInToken({ orgId: 'acme', userId: 'dana', role: 'member' });
      const cookie = cookiesOf(await http('POST', '/v1/session/sign-in', { body: { token } }));
      expect((await http('GET', '/v1/connections/team_crm', { cookie })).body).toMatchObject({ linkName: 'team_crm', status: 'pending' });
      expect((await http('GET', '/v1/connections/team_crm', { cookie, user: 'alice' })).body.error.code).toBe('user_mismatch');
      const create = { name: 'Dana’s', linkName: 'dana_own', service: 'team_crm_api' };
      for (const origin of [undefined, 'https://evil.example', 'null', `http://127.0.0.1:1`]) {
        const answer = await http('POST', '/v1/connections', { cookie, body: create, origin });
        expect({ origin, code: answer.body.error?.code }).toEqual({ origin, code: 'cross_site_request' });
      }
      expect((await http('POST', '/v1/connections/team_crm/revoke', { cookie, origin: base, user: 'alice' })).body.error.code).toBe('user_mismatch');
      const created = await http('POST', '/v1/connections', { cookie, body: create, origin: base });
      expect(created.status).toBe(201);
      expect(created.body.owner).toBe('dana');
      // A member's session is not an admin's; an API key with a session cookie is the key.
      expect((await http('GET', '/v1/keys', { cookie })).body.error.code).toBe('forbidden');
      expect((await http('GET', '/v1/session', { cookie, key: bob })).body.userId).toBe('bob');
      // The ops dashboard takes the same session; without one it points to the console, in HTML.
      expect((await http('GET', '/dashboard', { cookie })).status).toBe(200);
      const anonymous = await http('GET', '/dashboard');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^text\/html/);
      expect(anonymous.body).toContain('href="/console"');
      // Signing out clears the cookie.
      const out = await http('POST', '/v1/session/sign-out', { cookie, origin: base });
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().some((c) => c.startsWith('plugboard_session=;'))).toBe(true);
    });
  });

  describe('connect links', () => {
    const linkToken = (url: string) => url.slice(url.lastIndexOf('/') + 1);

    it('refuses without a key, for another user from a person, off the allowed origins, and for someone else’s own connection', async () => {
      expect((await http('POST', '/v1/connect-links', { body: { connection: 'team_crm', user: 'erin' } })).status).toBe(401);
      expect((await http('POST', '/v1/connect-links', { key: bob, body: { connection: 'team_crm', user: 'erin' } })).body.error.code).toBe('user_mismatch');
      const refusals: [unknown, string][] = [
        [{ connection: 'team_crm', user: 'erin', returnUrl: 'https://evil.example/back' }, 'return_url_not_allowed'],
        [{ connection: 'team_crm', user: 'erin', expiresIn: 10 }, 'validation_failed'],
        [{ connection: 'team_crm', user: 'erin\nx' }, 'validation_failed'],
        [{ connection: 'nope', user: 'erin' }, 'connection_not_found'],
        [{ connection: 'alice_own', user: 'erin' }, 'not_owner'],
      ];
      for (const [body, code] of refusals) expect({ body, code: (await http('POST', '/v1/connect-links', { key: product, body })).body.error?.code }).toEqual({ body, code });
      // Another org never finds acme's connection.
      expect((await http('POST', '/v1/connect-links', { key: globex, body: { connection: 'team_drive', user: 'erin' } })).body.error.code).toBe('connection_not_found');
      expect(await sys.sql(`SELECT * FROM connect_links`)).toEqual([]);
    });

    it('lets a second user complete an API key link in a browser with no key, once', async () => {
      const created = await http('POST', '/v1/connect-links', { key: product, body: { connection: 'team_crm', user: 'erin', returnUrl: 'https://app.example/done?x=1' } });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.body.url).toMatch(new RegExp(`^${base}/console/connect/cl_[A-Za-z0-9_-]{43}$`));
      expect(Date.parse(created.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
      expect(Date.parse(created.body.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
      const token = linkToken(created.body.url);
      tokens.push(token);
      expect(JSON.stringify(await sys.sql(`SELECT * FROM connect_links`))).not.toContain(token);

      const page = await http('GET', `/v1/connect-links/${token}`);
      expect(page.body).toEqual({
        status: 'active',
        expiresAt: created.body.expiresAt,
        user: 'erin',
        connection: { name: 'Team CRM', linkName: 'team_crm' },
        service: { name: 'Team CRM', linkName: 'team_crm_api', authType: 'api_key' },
        scopes: [],
        parameters: [{ name: 'X-Api-Key', displayName: 'Team API key' }],
        returnsTo: 'https://app.example',
      });
      expect((await http('GET', '/v1/connect-links/cl_unknown')).body.error.code).toBe('connect_link_not_found');

      const browser = 'plugboard_browser=erins-browser-erins-browser-erins-browser-x';
      const done = await http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': 'erin-personal-key-2' } }, cookie: browser });
      expect(done.status).toBe(200);
      expect(done.body).toEqual({ status: 'connected', connection: 'team_crm', returnUrl: 'https://app.example/done?x=1&plugboard_status=connected&connection=team_crm' });
      // Erin's credential, erin's only: alice's is untouched, and the product acting for erin now uses erin's.
      expect((await http('POST', '/v1/invoke', { key: product, user: 'erin', body: { connection: 'team_crm', method: 'GET', url: '/me' } })).status).toBe(200);
      expect(up.seen.at(-1)?.headers['x-api-key']).toBe('erin-personal-key-2');
      expect((await http('POST', '/v1/invoke', { key: alice, body: { connection: 'team_crm', method: 'GET', url: '/me' } })).status).toBe(200);
      expect(up.seen.at(-1)?.headers['x-api-key']).toBe('alice-personal-key-1');
      const [authorized] = await sys.sql(`SELECT metadata FROM events WHERE type = 'ConnectionAuthorized' AND data->>'userId' = 'erin'`);
      expect(authorized.metadata).toMatchObject({ orgId: 'acme', userId: 'erin' });

      // Replayed, in this browser or another: used.
      expect((await http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': 'mallory-key' } }, cookie: browser })).body.error.code).toBe('connect_link_used');
      expect((await http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': 'mallory-key' } } })).status).toBe(410);
      expect((await http('GET', `/v1/connect-links/${token}`)).body.status).toBe('used');
      expect(up.seen.some((s) => s.headers['x-api-key'] === 'mallory-key')).toBe(false);
    });

    it('lets only one of two browsers racing with the same link in', async () => {
      const created = await http('POST', '/v1/connect-links', { key: product, body: { connection: 'team_crm', user: 'kim' } });
      const token = linkToken(created.body.url);
      const race = await Promise.all(
        ['kims-browser-kims-browser-kims-browser-kimx', 'mals-browser-mals-browser-mals-browser-malx'].map((value, i) =>
          http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': `racer-${i}` } }, cookie: `plugboard_browser=${value}` }),
        ),
      );
      expect(race.map((answer) => answer.status).sort()).toEqual([200, 410]);
      expect(await sys.sql(`SELECT count(*)::int AS n FROM events WHERE type = 'ConnectionAuthorized' AND data->>'userId' = 'kim'`)).toEqual([{ n: 1 }]);
    });

    it('refuses an expired link, and a link of another org reaches its own org only', async () => {
      const expired = await http('POST', '/v1/connect-links', { key: product, body: { connection: 'team_crm', user: 'frank', expiresIn: 60 } });
      const token = linkToken(expired.body.url);
      await sys.sql(`UPDATE connect_links SET expires_at = now() - interval '1 second' WHERE link_name = 'team_crm' AND user_id = 'frank'`);
      expect((await http('GET', `/v1/connect-links/${token}`)).body.status).toBe('expired');
      const late = await http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': 'frank-key' } } });
      expect(late.status).toBe(410);
      expect(late.body.error.code).toBe('connect_link_expired');

      // globex's link for its own team_crm (same link name) writes globex's credential, never acme's.
      const theirs = await http('POST', '/v1/connect-links', { key: globex, body: { connection: 'team_crm', user: 'alice' } });
      expect((await http('POST', `/v1/connect-links/${linkToken(theirs.body.url)}/authorize`, { body: { values: { 'X-Api-Key': 'globex-alice-key' } } })).status).toBe(200);
      expect((await http('POST', '/v1/invoke', { key: alice, body: { connection: 'team_crm', method: 'GET', url: '/me' } })).status).toBe(200);
      expect(up.seen.at(-1)?.headers['x-api-key']).toBe('alice-personal-key-1');
    });

    it('OAuth 2: the link’s browser is bound; a callback in another browser completes nothing, in this one it connects', async () => {
      const created = await http('POST', '/v1/connect-links', { key: product, body: { connection: 'team_drive', user: 'grace' } });
      const token = linkToken(created.body.url);
      tokens.push(token);
      expect((await http('GET', `/v1/connect-links/${token}`)).body).toMatchObject({ service: { authType: 'oauth2' }, scopes: [{ name: 'api:read', displayName: 'Read your files' }], parameters: [] });
      const started = await http('POST', `/v1/connect-links/${token}/authorize`, { body: {} });
      expect(started.status).toBe(200);
      expect(started.body.authorizeUrl).toMatch(new RegExp(`^${as.authorizeUrl}\\?`));
      const binding = started.headers.getSetCookie().find((c) => c.startsWith('plugboard_browser='));
      expect(binding).toMatch(/HttpOnly/);
      expect(binding).toMatch(/SameSite=Lax/);
      const browser = (binding as string).split(';')[0];
      // Another browser cannot take the link over, nor finish the flow.
      expect((await http('POST', `/v1/connect-links/${token}/authorize`, { body: {}, cookie: 'plugboard_browser=another-browser-another-browser-another-bro' })).body.error.code).toBe('connect_link_used');
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      const callback = consent.callbackUrl.replace(/^http:\/\/[^/]+/, base);
      for (const cookie of [undefined, 'plugboard_browser=another-browser-another-browser-another-bro', 'plugboard_browser=short']) {
        const elsewhere = await http('GET', callback.replace(base, ''), { cookie });
        expect({ cookie, status: elsewhere.status }).toEqual({ cookie, status: 400 });
        expect(elsewhere.body).toContain('started in another browser');
      }
      expect((await http('GET', '/v1/connections/team_drive', { key: product, user: 'grace' })).body.status).toBe('pending');
      // The browser that started it: connected, and the link is used.
      const page = await http('GET', callback.replace(base, ''), { cookie: browser });
      expect({ status: page.status, body: page.body }).toEqual({ status: 200, body: expect.stringContaining('Connected') });
      expect(page.body).toContain('Connected');
      expect((await http('GET', '/v1/connections/team_drive', { key: product, user: 'grace' })).body.status).toBe('connected');
      expect((await http('GET', `/v1/connect-links/${token}`)).body.status).toBe('used');
      expect((await http('POST', `/v1/connect-links/${token}/authorize`, { body: {}, cookie: browser })).body.error.code).toBe('connect_link_used');
    }, 60_000);

    it('OAuth 2 through the API: the callback completes only in the browser that asked', async () => {
      const started = await http('POST', '/v1/connections/team_drive/authorize', { key: product, user: 'heidi', body: {}, cookie: 'plugboard_browser=heidis-browser-heidis-browser-heidis-browse' });
      const consent = await authorizeBrowserlessly(started.body.authorizeUrl);
      const callback = consent.callbackUrl.replace(/^http:\/\/[^/]+/, '');
      expect((await http('GET', callback)).status).toBe(400);
      expect((await http('GET', callback, { cookie: 'plugboard_browser=heidis-browser-heidis-browser-heidis-browse' })).status).toBe(200);
      // Over the bus, with no browser behind it, a flow through the provider's page does not start.
      await expect(sys.rpc.request(Subjects.connection.authorizeConnection, { actor: { orgId: 'acme', userId: 'ivan' }, linkName: 'team_drive', authorization: {} })).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringContaining('connect link') });
    }, 60_000);

    it('OAuth 1.0a: a second user completes the link through the provider’s page, in the link’s browser; the token is theirs alone, signs their calls, and the link works once', async () => {
      // A provider that verifies every signature (RFC 5849) and serves the API too (/api/echo answers with the token it verified).
      const consumerSecret = 'people-consumer-secret-e2e';
      const provider = new OAuth1Provider({ consumers: [{ key: 'people-consumer', secret: consumerSecret }] });
      const oauth1Base = (await provider.start()).baseUrl;
      // Every answer body the test sees, and where every redirect sent it: none may hold a secret.
      const seen: string[] = [];
      const keep = <T extends Answer>(answer: T): T => {
        seen.push(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), answer.headers.get('location') ?? '');
        return answer;
      };
      const call: typeof http = async (...args) => keep(await http(...args));
      try {
        expect((await call('POST', '/v1/services', { key: alice, body: {
          name: 'Team Wiki',
          linkName: 'team_wiki_api',
          authType: 'oauth1',
          baseUrl: oauth1Base,
          oauth1: { consumerKey: 'people-consumer', consumerSecret, requestTokenUrl: `${oauth1Base}/oauth/request_token`, authorizeUrl: `${oauth1Base}/oauth/authorize`, accessTokenUrl: `${oauth1Base}/oauth/access_token`, paramType: 'header' },
        } })).status).toBe(201);
        expect((await call('POST', '/v1/connections', { key: alice, body: { name: 'Team Wiki', linkName: 'team_wiki', service: 'team_wiki_api', useLoginUserCredentials: true } })).status).toBe(201);

        const created = await call('POST', '/v1/connect-links', { key: product, body: { connection: 'team_wiki', user: 'lena' } });
        expect(created.status).toBe(201);
        const token = linkToken(created.body.url);
        tokens.push(token);

        // Lena opens the link: the console's page, which reads the link and offers Connect.
        const opened = await fetch(created.body.url, { redirect: 'manual' });
        seen.push(await opened.text());
        expect(opened.status).toBe(200);
        expect(opened.headers.get('content-type')).toMatch(/^text\/html/);
        expect((await call('GET', `/v1/connect-links/${token}`)).body).toMatchObject({
          status: 'active',
          user: 'lena',
          connection: { name: 'Team Wiki', linkName: 'team_wiki' },
          service: { name: 'Team Wiki', linkName: 'team_wiki_api', authType: 'oauth1' },
          scopes: [],
          parameters: [],
        });
        // Connect: Plugboard gets a request token (signed with the consumer secret) and sends her to the provider's page.
        const started = await call('POST', `/v1/connect-links/${token}/authorize`, { body: {} });
        expect(started.status).toBe(200);
        expect(started.body.authorizeUrl).toMatch(new RegExp(`^${oauth1Base}/oauth/authorize\\?oauth_token=rt-`));
        const binding = started.headers.getSetCookie().find((c) => c.startsWith('plugboard_browser='));
        expect(binding).toMatch(/HttpOnly/);
        const browser = (binding as string).split(';')[0];
        const [pending] = await sys.sql(`SELECT secret_ref FROM oauth_authorizations WHERE protocol = 'oauth1' AND org_id = 'acme' AND user_id = 'lena' AND link_name = 'team_wiki'`);
        const requestToken = (await sys.vaultEntry<{ token: string; tokenSecret: string }>(pending.secret_ref, 'acme')) as { token: string; tokenSecret: string };
        expect(started.body.authorizeUrl).toContain(`oauth_token=${requestToken.token}`);

        // The provider's page: she approves, and it sends her back to Plugboard's callback with the verifier.
        const approved = await fetch(`${started.body.authorizeUrl}&approve=1`, { redirect: 'manual' });
        seen.push(await approved.text());
        expect(approved.status).toBe(302);
        const callback = (approved.headers.get('location') as string).replace(/^http:\/\/[^/]+/, '');
        expect(callback).toMatch(/^\/v1\/oauth1\/callback\?oauth_token=rt-[0-9a-f]+&oauth_verifier=/);
        // In another browser, or with none, the callback completes nothing.
        for (const cookie of [undefined, 'plugboard_browser=another-browser-another-browser-another-bro']) {
          const elsewhere = await call('GET', callback, { cookie });
          expect({ cookie, status: elsewhere.status }).toEqual({ cookie, status: 400 });
        }
        expect((await call('GET', '/v1/connections/team_wiki', { key: product, user: 'lena' })).body.status).toBe('pending');
        // In hers, it does: Plugboard exchanges the verifier for lena's token.
        const page = await call('GET', callback, { cookie: browser });
        expect({ status: page.status, body: page.body }).toEqual({ status: 200, body: expect.stringContaining('Connected') });

        // Connected for lena, and for her only.
        expect((await call('GET', '/v1/connections/team_wiki', { key: product, user: 'lena' })).body.status).toBe('connected');
        expect(await sys.sql(`SELECT user_key, status FROM connection_credentials WHERE org_id = 'acme' AND link_name = 'team_wiki'`)).toEqual([{ user_key: 'lena', status: 'connected' }]);
        const [row] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE org_id = 'acme' AND link_name = 'team_wiki' AND user_key = 'lena'`);
        const lenas = (await sys.vaultEntry<StoredCredential>(row.credential_ref, 'acme')) as StoredCredential & { token: string; tokenSecret: string };
        expect(lenas).toMatchObject({ kind: 'oauth1', token: expect.stringMatching(/^at-/), tokenSecret: expect.any(String) });
        tokens.push(lenas.tokenSecret);
        const other = await call('POST', '/v1/invoke', { key: product, user: 'mike', body: { connection: 'team_wiki', method: 'GET', url: '/api/echo' } });
        expect(other.status).toBe(409);
        expect(other.body.error.code).toBe('user_not_authorized');
        expect((await call('GET', '/v1/proxy/team_wiki/api/echo', { key: alice })).body.error.code).toBe('user_not_authorized');

        // Her calls reach the API signed with her token: the provider checks the signature with its own secret for that token.
        const proxied = await call('GET', '/v1/proxy/team_wiki/api/echo?page=2', { key: product, user: 'lena' });
        expect(proxied.status).toBe(200);
        expect(proxied.body).toEqual({ ok: true, method: 'GET', path: '/api/echo', query: { page: '2' }, form: {}, oauth: { consumer_key: 'people-consumer', token: lenas.token } });
        const invoked = await call('POST', '/v1/invoke', { key: product, user: 'lena', body: { connection: 'team_wiki', method: 'POST', url: '/api/echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'note=hello' } });
        expect(invoked.status).toBe(200);
        expect(invoked.body.status).toBe(200);
        expect(invoked.body.body).toMatchObject({ ok: true, method: 'POST', form: { note: 'hello' }, oauth: { token: lenas.token } });
        const echoes = provider.requests.filter((r) => r.path === '/api/echo');
        expect(echoes.map((r) => ({ status: r.status, signed: /^OAuth .*oauth_signature="/.test(String(r.headers.authorization)), token: String(r.headers.authorization).includes(`oauth_token="${lenas.token}"`) }))).toEqual([
          { status: 200, signed: true, token: true },
          { status: 200, signed: true, token: true },
        ]);

        // The link works once: replayed, neither the link nor the callback does anything, in her browser or another.
        const replay = await call('POST', `/v1/connect-links/${token}/authorize`, { body: {}, cookie: browser });
        expect(replay.status).toBe(410);
        expect(replay.body.error.code).toBe('connect_link_used');
        expect((await call('POST', `/v1/connect-links/${token}/authorize`, { body: {} })).body.error.code).toBe('connect_link_used');
        expect((await call('GET', `/v1/connect-links/${token}`)).body.status).toBe('used');
        expect((await call('GET', callback, { cookie: browser })).status).toBe(400);
        const [still] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE org_id = 'acme' AND link_name = 'team_wiki' AND user_key = 'lena'`);
        expect(await sys.vaultEntry<StoredCredential>(still.credential_ref, 'acme')).toEqual(lenas);
        // Every request Plugboard signed (request token, access token, API calls) held; the provider refused none.
        expect(provider.requests.filter((r) => r.status >= 400)).toEqual([]);
        expect(provider.requests.map((r) => r.path)).toEqual(['/oauth/request_token', '/oauth/authorize', '/oauth/access_token', '/api/echo', '/api/echo']);

        // No answer the test saw holds a secret: the consumer's, the request token's or lena's token secret.
        for (const secret of [consumerSecret, requestToken.tokenSecret, lenas.tokenSecret]) expect(seen.filter((body) => body.includes(secret))).toEqual([]);
      } finally {
        await provider.stop();
      }
    }, 60_000);

    it('answers 409 user_not_authorized, with a connect link for a product’s key (REST, proxy, gRPC), and the link works', async () => {
      const person = await http('POST', '/v1/invoke', { key: await sys.key('acme', 'member', 'judy'), body: { connection: 'team_crm', method: 'GET', url: '/me' } });
      expect(person.status).toBe(409);
      expect(person.body.error.code).toBe('user_not_authorized');
      expect(person.body.error.connectLink).toBeUndefined();

      const rest = await http('POST', '/v1/invoke', { key: product, user: 'judy', body: { connection: 'team_crm', method: 'GET', url: '/me' } });
      expect(rest.status).toBe(409);
      expect(rest.body.error).toMatchObject({ code: 'user_not_authorized', connectLink: { url: expect.stringMatching(new RegExp(`^${base}/console/connect/cl_`)), expiresAt: expect.any(String) } });
      const proxied = await http('GET', '/v1/proxy/team_crm/me', { key: product, user: 'judy' });
      expect(proxied.status).toBe(409);
      expect(proxied.body.error.connectLink.url).toMatch(/\/console\/connect\/cl_/);
      const [viaGrpc] = await grpc([{ rpc: 'Invoke', request: { connection: 'team_crm', method: 'GET', url: '/me' }, metadata: { authorization: `Bearer ${product}`, 'x-user-id': 'judy' } }]);
      expect(viaGrpc).toMatchObject({ ok: false, code: grpcStatus.FAILED_PRECONDITION, metadata: { 'plugboard-error-code': 'user_not_authorized' } });
      expect(JSON.parse(viaGrpc.metadata['plugboard-connect-link']).url).toMatch(/\/console\/connect\/cl_/);

      const token = linkToken(rest.body.error.connectLink.url);
      tokens.push(token);
      expect((await http('GET', `/v1/connect-links/${token}`)).body).toMatchObject({ user: 'judy', status: 'active' });
      expect((await http('POST', `/v1/connect-links/${token}/authorize`, { body: { values: { 'X-Api-Key': 'judy-key-3' } } })).status).toBe(200);
      expect((await http('POST', '/v1/invoke', { key: product, user: 'judy', body: { connection: 'team_crm', method: 'GET', url: '/me' } })).status).toBe(200);
      expect(up.seen.at(-1)?.headers['x-api-key']).toBe('judy-key-3');
    }, 60_000);
  });

  it('writes no token, link or credential to the logs', () => {
    const logs = sys.logs();
    for (const secret of [...tokens, 'people-consumer-secret-e2e', 'erin-personal-key-2', 'judy-key-3', 'alice-personal-key-1']) expect(logs).not.toContain(secret);
    expect(logs).toContain('/v1/connect-links/:token/authorize');
  });
});
