import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { StoredCredential } from '@plugboard/contracts';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { freePort } from '@plugboard/runtime';
import { eventually, WORKSPACE_ROOT } from '@plugboard/testing';
import { CHROMIUM } from './test-support/test-tools';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const SESSION_SECRET = `dashboard-session-${'s'.repeat(24)}`;
const API_KEY_VALUE = 'crm-secret-key-0042';
const BASIC_PASSWORD = 'billing-pw-secret-7';

/*
 * The ops dashboard in a real browser (Debian's Chromium, driven by playwright-core): real operations first, then an
 * operator signs in through a real oidc-provider and reads what the page shows; then the ways in that must not work.
 */
describe('ops dashboard', () => {
  let sys: TestSystem;
  let base: string;
  let up: Upstream;
  let as: TestAuthorizationServer;
  let browser: Browser;
  let alice: string;
  let aliceReadOnly: string;
  let globex: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's chromium (npm test installs it on Debian as root, and names the command elsewhere)`);
    up = await startUpstream();
    // The gateway's port is needed before it starts: the provider registers its callback, and it learns the provider's URLs.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    as = await startAuthorizationServer({
      redirectUris: [`${base}/dashboard/callback`, `${base}/v1/oauth/callback`],
      // Long-lived client-credentials tokens: one shows as expiring within the hour, and none is refreshed while the test looks.
      accessTokenTtlSeconds: 1800,
      accounts: {
        ada: { name: 'Ada Operator', plugboard_org: 'acme', plugboard_role: 'admin' },
        grace: { name: 'Grace Globex', plugboard_org: 'globex', plugboard_role: 'read_only' },
        norole: { name: 'No Role', plugboard_org: 'acme' },
      },
    });
    const oidc = { authorizeUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, userinfoUrl: as.userinfoUrl, clientId: as.clients.post.clientId, clientSecret: as.clients.post.clientSecret, scope: 'openid profile plugboard' };
    sys = await startTestSystem({ PORT: String(port), PLUGBOARD_PUBLIC_URL: base, PLUGBOARD_OPERATOR_OIDC: JSON.stringify(oidc), PLUGBOARD_DASHBOARD_SESSION_SECRET: SESSION_SECRET });
    alice = await sys.key('acme', 'member');
    aliceReadOnly = await sys.key('acme', 'read_only');
    globex = await sys.key('globex', 'admin');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await scenario();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await as?.stop();
    await sys?.close();
    await up?.close();
  });

  /**
   * What an org does in a day: services, connections, calls (some failing), a revocation, an edit the saga answers,
   * and an OAuth 2 grant the provider ended, so that the refresh after a 401 fails for good.
   */
  async function scenario(): Promise<void> {
    const ok = async (method: string, path: string, body?: unknown) => {
      const reply = await sys.call(method, path, alice, body);
      if (reply.status >= 300) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body;
    };
    await ok('POST', '/v1/services', { name: 'CRM', linkName: 'crm', authType: 'api_key', baseUrl: `${up.base}/v1`, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } });
    await ok('POST', '/v1/services', { name: 'Billing', linkName: 'billing', authType: 'basic', baseUrl: up.base });
    await ok('POST', '/v1/services', {
      name: 'CRM (OAuth)',
      linkName: 'crm_oauth',
      authType: 'oauth2',
      baseUrl: up.base,
      oauth2: { grantType: 'authorization_code', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, authorizeUrl: as.authorizeUrl, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
    });
    await ok('POST', '/v1/services', {
      name: 'Machine API',
      linkName: 'machine_api',
      authType: 'oauth2',
      baseUrl: up.base,
      oauth2: { grantType: 'client_credentials', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, accessTokenUrl: as.tokenUrl, paramType: 'header', scopes: [{ name: 'api:read', displayName: 'Read' }] },
    });
    for (const [linkName, service] of [['crm_main', 'crm'], ['crm_backup', 'crm'], ['crm_pending', 'crm'], ['billing_main', 'billing'], ['machine', 'machine_api'], ['crm_oauth_main', 'crm_oauth']]) {
      await ok('POST', '/v1/connections', { name: linkName.replace('_', ' '), linkName, service });
    }
    await ok('POST', '/v1/connections/crm_main/authorize', { values: { 'X-Api-Key': API_KEY_VALUE } });
    await ok('POST', '/v1/connections/crm_backup/authorize', { values: { 'X-Api-Key': API_KEY_VALUE } });
    await ok('POST', '/v1/connections/billing_main/authorize', { username: 'ada', password: BASIC_PASSWORD });
    await ok('POST', '/v1/connections/machine/authorize', {});
    // Five calls through crm_main, two of them refused by the API: an error rate of 40 %.
    for (const path of ['/records', '/records', '/records', '/unauthorized', '/unauthorized']) {
      expect((await ok('POST', '/v1/invoke', { connection: 'crm_main', method: 'GET', url: path === '/unauthorized' ? `${up.base}/unauthorized` : path })).status).toBe(path === '/records' ? 200 : 401);
    }
    await ok('POST', '/v1/invoke', { connection: 'machine', method: 'GET', url: '/status' });
    await ok('POST', '/v1/connections/crm_backup/revoke', {});
    // A person consents in the browser; then the provider ends the grant, the API refuses the access token, and the
    // refresh that follows fails with invalid_grant: TokenRefreshFailed, and a revocation with reason refresh_failed.
    const consent = await browser.newContext();
    // The consent happens in the browser that asked for the authorization (sys.call's cookie is that browser's).
    const [name, value] = sys.browserHeaders.cookie.split('=');
    await consent.addCookies([{ name, value, url: base, httpOnly: true, sameSite: 'Lax' }]);
    const tab = await consent.newPage();
    await tab.goto((await ok('POST', '/v1/connections/crm_oauth_main/authorize', {})).authorizeUrl);
    await tab.fill('input[name=login]', 'ada');
    await Promise.all([tab.waitForURL(`${base}/v1/oauth/callback?**`), tab.click('button[type=submit]')]);
    expect(await tab.locator('h1').innerText()).toBe('Connected');
    await consent.close();
    const [{ credential_ref }] = await sys.sql(`SELECT credential_ref FROM connection_credentials WHERE link_name = 'crm_oauth_main'`);
    const tokens = (await sys.vaultEntry<StoredCredential>(credential_ref, 'acme')) as Extract<StoredCredential, { kind: 'oauth2' }>;
    secretsSeen.push(tokens.accessToken, tokens.refreshToken as string);
    const { clientId, clientSecret } = as.clients.basic;
    const revoked = await fetch(as.revokeUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refreshToken as string, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    up.rejectedTokens.add(tokens.accessToken);
    await sys.call('POST', '/v1/invoke', alice, { connection: 'crm_oauth_main', method: 'GET', url: '/records' });
    await eventually(async () => expect((await sys.call('GET', '/v1/connections/crm_oauth_main', alice)).body).toMatchObject({ status: 'revoked', revokedReason: 'refresh_failed' }));
    // Editing the service makes the revocation saga revoke billing_main with reason service_edited.
    await ok('PATCH', '/v1/services/billing', { name: 'Billing v2' });
    await eventually(async () => expect((await sys.call('GET', '/v1/connections/billing_main', alice)).body).toMatchObject({ status: 'revoked', revokedReason: 'service_edited' }));
    await eventually(async () =>
      expect(await sys.sql(`SELECT connection, count(*)::int AS n FROM invocations WHERE org_id = 'acme' GROUP BY 1 ORDER BY 1`)).toEqual([
        { connection: 'crm_main', n: 5 },
        { connection: 'crm_oauth_main', n: 1 },
        { connection: 'machine', n: 1 },
      ]),
    );
    await eventually(async () => expect(await sys.sql(`SELECT link_name FROM refresh_schedule WHERE org_id = 'acme'`)).toEqual([{ link_name: 'machine' }]));
  }

  async function signIn(context: BrowserContext, account: string, path = '/dashboard'): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${base}${path}`);
    // Redirected to the provider's own login form: a person types their account there.
    await page.waitForSelector('input[name=login]');
    expect(page.url()).toContain(new URL(as.issuer).host);
    await page.fill('input[name=login]', account);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    return page;
  }

  const text = async (page: Page, selector: string) => (await page.locator(selector).innerText()).trim();
  const body = (response: Response): Promise<any> => response.json();
  const secretsSeen: string[] = [];
  const secrets = () => [API_KEY_VALUE, BASIC_PASSWORD, as.clients.post.clientSecret, as.clients.basic.clientSecret, SESSION_SECRET, alice, aliceReadOnly, globex, ...secretsSeen];

  it('shows an operator what happened in their org, after signing in through the identity provider', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await signIn(context, 'ada', '/dashboard?connection=billing_main');
    // Back where the operator was going, signed in.
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/dashboard?connection=billing_main');
    expect(await text(page, 'header')).toContain('Plugboard · acme');
    expect(await text(page, 'header .who')).toBe('Ada Operator · admin');

    // Counts: six connections, two connected, one pending, three revoked.
    expect(await text(page, '#tile-connections b')).toBe('6');
    expect(await text(page, '#tile-connected b')).toBe('2');
    expect(await text(page, '#tile-pending b')).toBe('1');
    expect(await text(page, '#tile-revoked b')).toBe('3');
    expect(await page.locator('#connections svg .bar-row').count()).toBeGreaterThanOrEqual(3);

    // The revoked connections, and why.
    expect(await text(page, 'tr[data-connection=billing_main]')).toMatch(/revoked\s+service_edited/);
    expect(await text(page, 'tr[data-connection=crm_backup]')).toMatch(/revoked\s+user/);
    expect(await text(page, 'tr[data-revocation=billing_main] .reason')).toBe('service_edited');
    expect(await text(page, 'tr[data-revocation=crm_backup] .reason')).toBe('user');
    expect(await text(page, 'tr[data-revocation=crm_oauth_main] .reason')).toBe('refresh_failed');

    // The refresh that failed, with the provider's reason.
    expect(await text(page, 'tr[data-refresh-failure=crm_oauth_main]')).toMatch(/invalid_grant\s+revoked \(refresh_failed\)/);

    // Invocations: 5 calls through crm_main, 2 errors, 40 %; latencies shown.
    expect(await text(page, 'tr[data-invocations=crm_main] .calls')).toBe('5');
    expect(await text(page, 'tr[data-invocations=crm_main] .errors')).toBe('2');
    expect(await text(page, 'tr[data-invocations=crm_main] .error-rate')).toBe('40 %');
    expect(await text(page, 'tr[data-invocations=crm_main]')).toMatch(/\d+ ms\s+\d+ ms/);
    expect(await text(page, 'tr[data-invocations=machine] .error-rate')).toBe('0 %');

    // The client-credentials token expires within the hour.
    expect(await text(page, 'tr[data-expiring=machine]')).toMatch(/soon/);

    // The timeline of billing_main: created, authorized, revoked by the saga.
    expect(await page.locator('#timeline ol li').evaluateAll((items) => items.map((li) => li.getAttribute('data-event-type')))).toEqual(['ConnectionCreated', 'ConnectionAuthorized', 'ConnectionRevoked']);
    expect(await text(page, '#timeline table')).toContain('"reason":"service_edited"');

    // The log tail, newest first, with the service edit; the admin also sees the webhook panel.
    expect(await page.locator('#events tr[data-event-type=ServiceEdited]').count()).toBe(1);
    expect(await page.locator('#webhooks').count()).toBe(1);

    // The session is a signed, HttpOnly, SameSite=Lax cookie; no secret anywhere in the page.
    const cookie = (await context.cookies()).find((c) => c.name === 'plugboard_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect((await context.cookies()).some((c) => c.name === 'plugboard_session.sig')).toBe(true);
    const content = await page.content();
    for (const secret of secrets()) expect(content).not.toContain(secret);

    // Another connection's timeline, from its link in the table.
    await page.goto(`${base}/dashboard`);
    await Promise.all([page.waitForLoadState('load'), page.click('tr[data-connection=crm_main] a')]);
    expect(await page.locator('#timeline ol li').evaluateAll((items) => items.map((li) => li.getAttribute('data-event-type')))).toEqual(['ConnectionCreated', 'ConnectionAuthorized']);

    await page.goto(`${base}/dashboard?connection=billing_main`);
    mkdirSync(join(WORKSPACE_ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: join(WORKSPACE_ROOT, 'docs', 'dashboard.png'), fullPage: true });

    // Signing out drops the session: the next visit goes to the sign-in again.
    await Promise.all([page.waitForLoadState('load'), page.click('header button[type=submit]')]);
    expect(await text(page, 'h1')).toBe('Signed out');
    expect((await context.cookies()).find((c) => c.name === 'plugboard_session')).toBeUndefined();
    await context.close();
  }, 60_000);

  it('shows another org operator their org only', async () => {
    const context = await browser.newContext();
    // A sign-in asked to land off the dashboard lands on it.
    const page = await signIn(context, 'grace', `/dashboard/login?next=${encodeURIComponent('https://evil.example/')}`);
    expect(page.url()).toBe(`${base}/dashboard`);
    await page.goto(`${base}/dashboard?connection=crm_main`);
    expect(await text(page, 'header')).toContain('Plugboard · globex');
    expect(await text(page, 'header .who')).toBe('Grace Globex · read_only');
    expect(await text(page, '#tile-connections b')).toBe('0');
    // The same link name in another org is another stream: nothing of acme's.
    expect(await text(page, '#timeline')).toContain('No events.');
    // Not an admin: no webhook delivery log.
    expect(await page.locator('#webhooks').count()).toBe(0);
    const content = await page.content();
    for (const word of ['crm_backup', 'billing_main', 'ServiceEdited', 'acme', 'ConnectionCreated']) expect(content).not.toContain(word);
    await context.close();
  }, 60_000);

  it('refuses an account without a Plugboard role', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, 'norole');
    expect(await text(page, 'h1')).toBe('Not signed in');
    expect(await text(page, 'body')).toContain('has no Plugboard role');
    expect((await context.cookies()).find((c) => c.name === 'plugboard_session')).toBeUndefined();
    await context.close();
  }, 60_000);

  it('sends a visitor without a session to the sign-in, and refuses forged or tampered session cookies', async () => {
    const anonymous = await fetch(`${base}/dashboard`, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/dashboard/login?next=%2Fdashboard');
    const login = await fetch(`${base}/dashboard/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toMatch(new RegExp(`^${as.authorizeUrl}\\?.*code_challenge_method=S256`));
    const json = await fetch(`${base}/dashboard/data.json`);
    expect(json.status).toBe(401);
    expect((await body(json)).error.code).toBe('unauthenticated');

    const session = Buffer.from(JSON.stringify({ person: { orgId: 'acme', userId: 'mallory', role: 'admin', displayName: 'Mallory' }, expiresAt: Date.now() + 3600_000 })).toString('base64');
    const sign = (value: string, key: string) => createHmac('sha256', key).update(`plugboard_session=${value}`).digest('base64url');
    const tries = {
      unsigned: `plugboard_session=${session}`,
      'signed with another key': `plugboard_session=${session}; plugboard_session.sig=${sign(session, 'not-the-secret')}`,
      'garbage signature': `plugboard_session=${session}; plugboard_session.sig=AAAA`,
    };
    for (const [what, cookie] of Object.entries(tries)) {
      const reply = await fetch(`${base}/dashboard`, { redirect: 'manual', headers: { cookie } });
      expect({ what, status: reply.status }).toEqual({ what, status: 302 });
    }
    // The same payload signed with the real secret is accepted: the refusals above are the signature's doing.
    const genuine = await fetch(`${base}/dashboard`, { redirect: 'manual', headers: { cookie: `plugboard_session=${session}; plugboard_session.sig=${sign(session, Buffer.from(SESSION_SECRET).toString('base64'))}` } });
    expect(genuine.status).toBe(200);
    // An expired session is refused even with a valid signature.
    const stale = Buffer.from(JSON.stringify({ person: { orgId: 'acme', userId: 'x', role: 'admin', displayName: 'X' }, expiresAt: Date.now() - 1 })).toString('base64');
    expect((await fetch(`${base}/dashboard`, { redirect: 'manual', headers: { cookie: `plugboard_session=${stale}; plugboard_session.sig=${sign(stale, Buffer.from(SESSION_SECRET).toString('base64'))}` } })).status).toBe(302);
    // The callback without a code or an error (someone typed it) is a page that says so, not a new authorization.
    const typed = await fetch(`${base}/dashboard/callback`, { redirect: 'manual' });
    expect(typed.status).toBe(403);
    expect(await typed.text()).toContain('start at /dashboard');
    // A callback whose state the browser never started is refused.
    const stray = await fetch(`${base}/dashboard/callback?code=abc&state=forged`, { redirect: 'manual' });
    expect(stray.status).toBe(403);
  });

  it('lets programs read it with an API key, for their org only', async () => {
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    const page = await fetch(`${base}/dashboard`, { headers: bearer(aliceReadOnly), redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('tr data-connection="crm_main"');
    for (const secret of secrets()) expect(html).not.toContain(secret);

    const data = await body(await fetch(`${base}/dashboard/data.json?connection=crm_main`, { headers: bearer(alice) }));
    expect(data.orgId).toBe('acme');
    expect(data.connections.map((c: { linkName: string; status: string }) => `${c.linkName}:${c.status}`)).toEqual([
      'billing_main:revoked',
      'crm_backup:revoked',
      'crm_main:connected',
      'crm_oauth_main:revoked',
      'crm_pending:pending',
      'machine:connected',
    ]);
    expect(data.refreshFailures).toMatchObject([{ linkName: 'crm_oauth_main', error: 'invalid_grant', definitive: true }]);
    expect(data.invocations.find((i: { connection: string }) => i.connection === 'crm_main')).toMatchObject({ calls: 5, errors: 2, errorRate: 0.4 });
    expect(data.timeline.events.map((e: { type: string }) => e.type)).toEqual(['ConnectionCreated', 'ConnectionAuthorized']);
    // A member is not an admin: no webhook delivery log.
    expect(data.webhookDeliveries).toBeNull();

    const other = await body(await fetch(`${base}/dashboard/data.json?connection=crm_main`, { headers: bearer(globex) }));
    expect(other).toMatchObject({ orgId: 'globex', connections: [], invocations: [], revocations: [], events: [], timeline: { events: [] } });

    const bad = await fetch(`${base}/dashboard/data.json`, { headers: bearer('pb_not-a-key') });
    expect(bad.status).toBe(401);
    expect((await fetch(`${base}/dashboard/data.json?connection=Not-A-Link`, { headers: bearer(alice) })).status).toBe(400);
    expect((await fetch(`${base}/dashboard?connection=Not-A-Link`, { headers: bearer(alice) })).status).toBe(400);
  });

  it('writes no secret to the logs, session cookies included', () => {
    const logs = sys.logs();
    for (const secret of secrets()) expect(logs).not.toContain(secret);
    expect(logs).toContain('/dashboard/callback');
    expect(logs).not.toMatch(/plugboard_session(\.sig)?=/);
  });

  it('shows no text the callback URL brings (error_description is anyone’s to write)', async () => {
    const page = await fetch(`${base}/dashboard/callback?error=server_error&error_description=Call%20555-0100%20to%20restore%20access`);
    const text = await page.text();
    expect(text).not.toContain('555-0100');
    expect(text).toContain('did not complete the sign-in');
  });
});
