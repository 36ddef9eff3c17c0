import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CONNECTION_DEGRADED_AFTER } from '@plugboard/contracts';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { freePort } from '@plugboard/runtime';
import { eventually, runEntry, WORKSPACE_ROOT } from '@plugboard/testing';
import { CHROMIUM } from './test-support/test-tools';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const API_KEY_VALUE = 'crm-console-key-0042';
const BASIC_PASSWORD = 'billing-console-pw-7';
const ORG_CLIENT_SECRET = 'org-github-console-secret-93kq';
const DEPLOYMENT_CLIENT_SECRET = 'deployment-github-console-secret-5vbx';
const DOCS = join(WORKSPACE_ROOT, 'docs');
/** The gateway's console session cookie (cookie-session adds its signature as `<name>.sig`). */
const SESSION_COOKIE = 'plugboard_session';

/*
 * The console as a person uses it, in Debian's Chromium (playwright-core): sign in through the org's identity
 * provider, create a custom service of each auth type with the seeds' fields, create and connect connections (API key
 * in a form, OAuth 2 against a real oidc-provider), copy the snippet, edit, revoke, enable and delete, edit a service
 * and see how many connections it revokes, and a connect link completed by a second person in a second browser.
 * Every control is found by its visible label or its role and name, as a screen reader would find it.
 */
describe('console', () => {
  let sys: TestSystem;
  let base: string;
  let up: Upstream;
  let as: TestAuthorizationServer;
  let browser: Browser;
  let product: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the console's browser test needs Debian's chromium (npm test installs it on Debian as root)`);
    if (!existsSync(join(WORKSPACE_ROOT, 'apps/console/dist/index.html'))) throw new Error('The console is not built: run node tools/build-console.js (npm ci and the console:build target do)');
    up = await startUpstream();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    as = await startAuthorizationServer({
      redirectUris: [`${base}/dashboard/callback`, `${base}/console/callback`, `${base}/v1/session/callback`, `${base}/v1/oauth/callback`],
      accessTokenTtlSeconds: 1800,
      accounts: {
        ada: { name: 'Ada Admin', plugboard_org: 'acme', plugboard_role: 'admin' },
        bob: { name: 'Bob Builder', plugboard_org: 'acme', plugboard_role: 'member' },
      },
    });
    const oidc = { authorizeUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, userinfoUrl: as.userinfoUrl, clientId: as.clients.post.clientId, clientSecret: as.clients.post.clientSecret, scope: 'openid profile plugboard' };
    sys = await startTestSystem({
      PORT: String(port),
      PLUGBOARD_PUBLIC_URL: base,
      PLUGBOARD_OPERATOR_OIDC: JSON.stringify(oidc),
      PLUGBOARD_DASHBOARD_SESSION_SECRET: `console-session-${'s'.repeat(24)}`,
      // The deployment's OAuth app for GitHub: the default an org's own replaces.
      PLUGBOARD_PREDEFINED_CLIENTS: JSON.stringify({ github: { clientId: 'deployment-github-console', clientSecret: DEPLOYMENT_CLIENT_SECRET } }),
    });
    // A product's key (keys made without a user act for the user X-User-Id names): it hands bob a connect link.
    product = await sys.key('acme', 'admin');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(DOCS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await as?.stop();
    await sys?.close();
    await up?.close();
  });

  /** Clicks what sends the browser to the provider, logs in there when it asks (a person types their account), and returns to Plugboard. */
  async function throughProvider(page: Page, account: string, click: () => Promise<void>): Promise<void> {
    const before = page.url();
    await Promise.all([page.waitForURL((url) => url.href !== before), click()]);
    if (new URL(page.url()).origin === new URL(as.issuer).origin) {
      await page.fill('input[name=login]', account);
      await Promise.all([page.waitForURL((url) => url.origin === base), page.click('button[type=submit]')]);
    }
    await page.waitForLoadState('load');
  }

  async function signIn(context: BrowserContext, account: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${base}/console`);
    await page.getByRole('heading', { name: 'Sign in to Plugboard' }).waitFor();
    await throughProvider(page, account, () => page.getByRole('link', { name: 'Sign in with your organization' }).click());
    if (!new URL(page.url()).pathname.startsWith('/console')) await page.goto(`${base}/console`);
    await page.getByRole('heading', { name: 'My Connections' }).waitFor();
    return page;
  }

  /** A browser context of its own (a person's browser), quick to fail: the whole file stays well under 3 minutes. */
  async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const context = await browser.newContext(options);
    context.setDefaultTimeout(15_000);
    return context;
  }

  const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true, level: 1 }).waitFor();

  it('serves the app to a browser without a session, with its sign-in page, a strict policy and cached assets', async () => {
    const page = await fetch(`${base}/console/connections/anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${base}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/console/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    // Nothing on the page comes from elsewhere.
    expect(html).not.toMatch(/https?:\/\//);

    const context = await newContext();
    const tab = await context.newPage();
    const outside: string[] = [];
    tab.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    const violations: string[] = [];
    tab.on('console', (message) => message.text().includes('Content Security Policy') && violations.push(message.text()));
    await tab.goto(`${base}/console`);
    await heading(tab, 'Sign in to Plugboard');
    expect(await tab.getByRole('link', { name: 'Sign in with your organization' }).count()).toBe(1);
    expect(outside).toEqual([]);
    expect(violations).toEqual([]);
    await tab.screenshot({ path: join(DOCS, 'console-sign-in.png') });
    await context.close();
  }, 60_000);

  it('signs a browser in once with the one-time link `npm run keys -- sign-in-link` prints, and refuses the same link again', async () => {
    // The link as the product makes it: `npm run keys -- sign-in-link` on this system's database (npm start prints one made the same way).
    const cli = runEntry('apps/plugboard/src/keys.cli.ts', { DATABASE_URL: sys.db.url, PLUGBOARD_PUBLIC_URL: base, LOG_LEVEL: 'warn' }, ['sign-in-link']);
    expect(await cli.exited).toBe(0);
    const link = cli.output().match(new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/console/sign-in\\?token=st_[A-Za-z0-9_-]{43}`))?.[0] ?? '';
    expect(link).not.toBe('');
    const token = new URL(link).searchParams.get('token') as string;
    const signedIn = async (context: BrowserContext) => (await (await context.request.get(`${base}/v1/session`)).json()).signedIn;

    // A link preview or a prefetch only loads the page: that does not use the link up.
    const preview = await newContext();
    const peek = await preview.newPage();
    await peek.goto(link);
    await heading(peek, 'Sign in to Plugboard');
    await preview.close();

    // Opened in a browser: a page that says what the link does, and the token is gone from the address bar before any click.
    const context = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(link);
    await heading(page, 'Sign in to Plugboard');
    await page.getByRole('heading', { name: 'Your sign-in link' }).waitFor();
    await page.waitForURL(`${base}/console/sign-in`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // Signed in, in the console, as the link's person: admin of org default.
    await heading(page, 'My Connections');
    expect(new URL(page.url()).pathname).toBe('/console');
    const who = await page.locator('header .who-name').innerText();
    expect(who).toContain('admin');
    expect(who).toContain('default');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Ops dashboard' }).count()).toBe(1);
    expect(await signedIn(context)).toBe(true);
    expect(await (await context.request.get(`${base}/v1/session`)).json()).toMatchObject({ signedIn: true, orgId: 'default', userId: 'admin', role: 'admin', via: 'session' });
    // The session is a cookie no script can read, and it is not the token.
    const cookies = await context.cookies(base);
    const session = cookies.find((cookie) => cookie.name === SESSION_COOKIE);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    for (const cookie of cookies.filter((c) => c.name.startsWith(SESSION_COOKIE))) {
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.value).not.toContain(token);
    }
    expect(await page.evaluate<string>('document.cookie')).not.toContain(SESSION_COOKIE);
    // Nothing keeps the token: not the address bar, not the page, not the history (the link's entry was replaced, so
    // Back goes to where the tab was before the link).
    expect(page.url()).not.toContain(token);
    expect(await page.content()).not.toContain(token);
    await page.goBack();
    expect(page.url()).not.toContain('/console/sign-in');
    // Forward again, a new load of the page: the session stays.
    await page.goForward();
    await heading(page, 'My Connections');
    expect(page.url()).not.toContain(token);
    await context.close();

    // The same link again, in another browser: refused on a page that says why, and that browser is not signed in.
    const replay = await newContext({ viewport: { width: 1280, height: 900 } });
    const again = await replay.newPage();
    const response = await again.goto(link);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    await heading(again, 'Sign in to Plugboard');
    await again.getByRole('button', { name: 'Sign in', exact: true }).click();
    const refusal = again.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).toContain('This sign-in link is unknown, used or expired');
    expect(await refusal.innerText()).toContain('Error code: sign_in_link_invalid');
    expect((await again.locator('body').innerText()).trim()).not.toMatch(/^[{[]/);
    await heading(again, 'Sign in to Plugboard');
    expect(await again.getByRole('heading', { name: 'My Connections' }).count()).toBe(0);
    expect((await replay.cookies(base)).filter((cookie) => cookie.name.startsWith(SESSION_COOKIE))).toEqual([]);
    expect(await signedIn(replay)).toBe(false);
    await again.goto(`${base}/console`);
    await heading(again, 'Sign in to Plugboard');
    await replay.close();
  }, 90_000);

  it('lets a person create a custom service of each auth type, with errors next to the fields they name', async () => {
    const context = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, 'ada');
    // An admin reaches the ops dashboard from the console.
    expect(await page.getByRole('link', { name: 'Ops dashboard' }).getAttribute('href')).toBe('/dashboard');
    expect(await page.locator('header').innerText()).toContain('Ada Admin');

    const newService = async () => {
      await page.getByRole('navigation', { name: 'Connections' }).getByRole('link', { name: '+ New Connection' }).click();
      await heading(page, 'New Connection');
      await page.getByRole('link', { name: 'Custom Service', exact: true }).click();
      await page.getByRole('link', { name: '+ Create New Service' }).click();
      await heading(page, 'Create Your Own Service');
    };
    const created = async (name: string) => {
      await page.getByRole('button', { name: 'Create Service' }).click();
      await heading(page, name);
    };

    // API Key, with the link name proposed from the name as it is typed.
    await newService();
    await page.getByLabel('Service Name').fill('Acme CRM');
    expect(await page.getByLabel('Service Link Name').inputValue()).toBe('acme_crm');
    await page.getByLabel('Service Link Name').fill('crm');
    await page.getByLabel('Authentication Type').selectOption('api_key');
    await page.getByLabel('API base URL').fill(`${up.base}/v1`);
    await page.getByLabel('Actual Parameter').fill('X-Api-Key');
    await page.getByLabel('Parameter Display Name').fill('API key');
    await page.getByLabel('Param Type').selectOption('header');
    await page.screenshot({ path: join(DOCS, 'console-custom-service.png'), fullPage: true });
    await created('Acme CRM');

    // Basic; first with a link name that is taken: the error is under the link name field.
    await newService();
    await page.getByLabel('Service Name').fill('Billing');
    await page.getByLabel('Service Link Name').fill('crm');
    await page.getByLabel('Authentication Type').selectOption('basic');
    await page.getByLabel('API base URL').fill(up.base);
    await page.getByRole('button', { name: 'Create Service' }).click();
    const linkNameField = page.locator('.field', { has: page.getByLabel('Service Link Name') });
    await linkNameField.locator('.field-error').waitFor();
    expect(await linkNameField.locator('.field-error').innerText()).toMatch(/crm/);
    expect(await page.getByLabel('Service Link Name').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Service Link Name').fill('billing');
    await created('Billing');

    // OAuth 1: seed 004's fields; a malformed URL is named under its own field.
    await newService();
    await page.getByLabel('Service Name').fill('Tweets');
    await page.getByLabel('Authentication Type').selectOption('oauth1');
    await page.getByLabel('Consumer Key').fill('consumer-key');
    await page.getByLabel('Consumer Secret').fill('consumer-secret');
    await page.getByLabel('Request Token URL').fill('not a url');
    await page.getByLabel('Authorize URL').fill('https://api.tweets.example/oauth/authorize');
    await page.getByLabel('Access Token URL').fill('https://api.tweets.example/oauth/access_token');
    await page.getByLabel('Param Type').selectOption('query');
    await page.getByRole('button', { name: 'Create Service' }).click();
    const requestTokenField = page.locator('.field', { has: page.getByLabel('Request Token URL') });
    await requestTokenField.locator('.field-error').waitFor();
    expect(await requestTokenField.locator('.field-error').innerText()).toMatch(/URL/);
    await page.getByLabel('Request Token URL').fill('https://api.tweets.example/oauth/request_token');
    await created('Tweets');

    // OAuth 2 against the test authorization server, with a scope and its display name; its callback URLs are shown.
    await newService();
    await page.getByLabel('Service Name').fill('CRM OAuth');
    await page.getByLabel('Service Link Name').fill('crm_oauth');
    await page.getByLabel('Authentication Type').selectOption('oauth2');
    await page.getByLabel('API base URL').fill(up.base);
    await page.getByLabel('Grant Type').selectOption('authorization_code');
    await page.getByLabel('Client ID').fill(as.clients.basic.clientId);
    await page.getByLabel('Client Secret').fill(as.clients.basic.clientSecret);
    await page.getByLabel('Authorize URL').fill(as.authorizeUrl);
    await page.getByLabel('Access Token URL').fill(as.tokenUrl);
    await page.getByLabel('Param Type').selectOption('header');
    await page.getByRole('button', { name: '+ Add Scope' }).click();
    await page.getByLabel('Scope', { exact: true }).fill('api:read');
    await page.getByLabel('Scope Display Name').fill('Read records');
    await page.getByLabel('Scope Delimiter').selectOption('space');
    expect(await page.locator('.callbacks').innerText()).toContain('/v1/oauth/callback');
    await created('CRM OAuth');
    expect(await page.locator('.callbacks').innerText()).toContain(`${base}/v1/oauth/callback`);
    await page.screenshot({ path: join(DOCS, 'console-service.png'), fullPage: true });

    const services = (await sys.call('GET', '/v1/services?type=custom', product, undefined, 'ada')).body.items;
    expect(services.map((s: any) => [s.linkName, s.authType, s.owner])).toEqual([
      ['billing', 'basic', 'ada'],
      ['crm', 'api_key', 'ada'],
      ['crm_oauth', 'oauth2', 'ada'],
      ['tweets', 'oauth1', 'ada'],
    ]);
    // The secret went to the service, and no page ever shows it again.
    expect(await page.content()).not.toContain(as.clients.basic.clientSecret);
    await context.close();
  }, 90_000);

  it('creates and connects connections, shows the snippet, and edits, revokes, enables and deletes them', async () => {
    const context = await newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await signIn(context, 'ada');

    // API key: "Create and Connect", then the form labelled with the parameter's display name.
    await page.goto(`${base}/console/services/crm`);
    await heading(page, 'Acme CRM');
    await page.getByLabel('Connection Name').fill('Sales CRM');
    expect(await page.getByLabel('Connection Link Name').inputValue()).toBe('sales_crm');
    await page.getByRole('button', { name: 'Create and Connect' }).click();
    await page.getByLabel('API key').fill(API_KEY_VALUE);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await heading(page, 'Sales CRM');
    expect(await page.locator('[data-field=status]').innerText()).toContain('Connected');

    // The snippet, copied with its button, works as it says (the API sees the key Plugboard added).
    await page.getByRole('heading', { name: 'Code snippet' }).waitFor();
    expect(await page.locator('#snippet-panel').innerText()).toContain('sales_crm');
    await page.getByRole('button', { name: 'Copy snippet' }).click();
    await page.getByText('✓ Copied').waitFor();
    // Expressions evaluated in the page, as text: this project is typed for Node, without the DOM's names.
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toContain('"connection":"sales_crm"');
    await page.getByRole('tab', { name: 'TypeScript' }).click();
    expect(await page.locator('#snippet-panel').innerText()).toContain('sales_crm');
    expect((await sys.call('POST', '/v1/invoke', product, { connection: 'sales_crm', method: 'GET', url: '/records' }, 'ada')).body.status).toBe(200);
    // The timeline says what happened.
    await eventually(async () => {
      await page.reload();
      await page.locator('.timeline li[data-event-type=ConnectionAuthorized]').waitFor({ timeout: 2000 });
    });
    await page.screenshot({ path: join(DOCS, 'console-connection.png'), fullPage: true });

    // Edit: name only (an API key service has no scopes).
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Connection Name').fill('Sales CRM (EU)');
    await page.getByRole('button', { name: 'Update' }).click();
    await heading(page, 'Sales CRM (EU)');

    // Revoke, in the pop-up that asks again; then Enable with the key.
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.locator('[data-field=status]', { hasText: 'Revoked' }).waitFor();
    expect((await sys.call('POST', '/v1/invoke', product, { connection: 'sales_crm', method: 'GET', url: '/records' }, 'ada')).body.error.code).toBe('connection_revoked');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByLabel('API key').fill(API_KEY_VALUE);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.locator('[data-field=status]', { hasText: 'Connected' }).waitFor();
    expect(await page.locator('[data-field=health]').innerText()).toContain('Healthy');
    // The API refuses the key from now on: after a few calls the page says so, and what to do.
    for (let i = 0; i < CONNECTION_DEGRADED_AFTER; i++) {
      expect((await sys.call('POST', '/v1/invoke', product, { connection: 'sales_crm', method: 'GET', url: `${up.base}/unauthorized` }, 'ada')).body.status).toBe(401);
    }
    await eventually(async () => {
      await page.reload();
      await page.locator('[data-field=health]', { hasText: 'Degraded' }).waitFor({ timeout: 2000 });
    });
    expect(await page.locator('.alert-warning', { hasText: 'were refused' }).innerText()).toContain(`The last ${CONNECTION_DEGRADED_AFTER} calls through this connection were refused`);
    expect(await page.locator('[data-field=last-error]').innerText()).toContain(`401 from ${new URL(up.base).host}`);

    // Basic: username and password.
    await page.goto(`${base}/console/services/billing`);
    await page.getByLabel('Connection Name').fill('Billing main');
    await page.getByRole('button', { name: 'Create and Connect' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill(BASIC_PASSWORD);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await heading(page, 'Billing main');
    expect(await page.locator('[data-field=status]').innerText()).toContain('Connected');

    // OAuth 2: the provider's page, consent, back on the connection's page, connected.
    await page.goto(`${base}/console/services/crm_oauth`);
    await page.getByLabel('Connection Name').fill('CRM records');
    expect(await page.getByLabel('Read records (api:read)').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create and Connect' }).click();
    await throughProvider(page, 'ada', () => page.getByRole('button', { name: 'Connect to CRM OAuth' }).click());
    await heading(page, 'CRM records');
    expect(await page.locator('.alert-success').innerText()).toContain('Connected');
    expect(await page.locator('[data-field=status]').innerText()).toContain('Connected');
    expect(await page.locator('[data-field=scopes]').innerText()).toContain('api:read');
    expect((await sys.call('POST', '/v1/invoke', product, { connection: 'crm_records', method: 'GET', url: '/records' }, 'ada')).body.status).toBe(200);

    // Delete, with "Yes, Delete": gone from My Connections.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, Delete' }).click();
    await heading(page, 'My Connections');
    await page.locator('[data-connection=sales_crm]').waitFor();
    expect(await page.locator('[data-connection=crm_records]').count()).toBe(0);
    await page.screenshot({ path: join(DOCS, 'console-connections.png'), fullPage: true });

    // Editing the service says first how many connections it revokes, and then it does.
    await page.goto(`${base}/console/services/crm`);
    await page.getByRole('link', { name: 'Edit' }).click();
    await heading(page, 'Edit Acme CRM');
    expect(await page.getByTestId('revoke-count').innerText()).toContain('the 1 connection');
    await page.getByLabel('Service Name').fill('Acme CRM v2');
    await page.getByRole('button', { name: 'Update' }).click();
    await heading(page, 'Acme CRM v2');
    await eventually(async () => expect((await sys.call('GET', '/v1/connections/sales_crm', product, undefined, 'ada')).body).toMatchObject({ status: 'revoked', revokedReason: 'service_edited' }));

    // The secrets typed in the forms are nowhere on the pages.
    for (const secret of [API_KEY_VALUE, BASIC_PASSWORD]) expect(await page.content()).not.toContain(secret);
    await context.close();
  }, 120_000);

  it('lets a second person complete a connect link in their own browser', async () => {
    const adaContext = await newContext({ viewport: { width: 1280, height: 900 } });
    const ada = await signIn(adaContext, 'ada');
    await ada.goto(`${base}/console/services/crm_oauth`);
    await ada.getByLabel('Connection Name').fill('Team CRM');
    await ada.getByLabel('Use credentials of login user').check();
    await ada.getByRole('button', { name: 'Create and Connect' }).click();
    await throughProvider(ada, 'ada', () => ada.getByRole('button', { name: 'Connect to CRM OAuth' }).click());
    await heading(ada, 'Team CRM');
    await adaContext.close();

    // The suite's product hands bob a link to authorize his own credential.
    const link = await sys.call('POST', '/v1/connect-links', product, { connection: 'team_crm', user: 'bob' }, 'bob');
    expect(link.status).toBe(201);
    expect(link.body.url).toMatch(new RegExp(`^${base}/console/connect/`));

    const bobContext = await newContext({ viewport: { width: 1280, height: 900 } });
    const bob = await bobContext.newPage();
    await bob.goto(link.body.url);
    await heading(bob, 'Connect CRM OAuth');
    expect(await bob.locator('main').innerText()).toContain('You are connecting as bob');
    expect(await bob.locator('.scope-list').innerText()).toContain('Read records');
    await bob.screenshot({ path: join(DOCS, 'console-connect-link.png'), fullPage: true });
    await throughProvider(bob, 'bob', () => bob.getByRole('button', { name: 'Connect', exact: true }).click());
    expect(await bob.locator('h1').innerText()).toBe('Connected');
    await bobContext.close();

    expect((await sys.call('GET', '/v1/connections/team_crm', product, undefined, 'bob')).body.status).toBe('connected');
    expect((await sys.call('POST', '/v1/invoke', product, { connection: 'team_crm', method: 'GET', url: '/records' }, 'bob')).body.status).toBe(200);
    // Used once: the link's page says so.
    const again = await newContext();
    const page = await again.newPage();
    await page.goto(link.body.url);
    await page.getByText('This link has been used already').waitFor();
    await again.close();
  }, 90_000);

  it("lets an admin set and remove the org's own OAuth app of a predefined service, secret masked; members only read it", async () => {
    const context = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, 'ada');
    const section = page.getByRole('region', { name: 'OAuth Client' });
    const clientOf = async (linkName: string) => (await sys.call('GET', `/v1/services/${linkName}`, product, undefined, 'ada')).body.client;

    // No app at all: the page says it cannot be authorized yet.
    await page.goto(`${base}/console/services/gitlab`);
    await heading(page, 'GitLab');
    expect(await section.locator('[data-field=client-source]').innerText()).toContain('Not configured');
    expect(await section.locator('[data-field=client-explanation]').innerText()).toContain('cannot be authorized yet');

    // The deployment's app is the default, and nothing of it is shown.
    await page.goto(`${base}/console/services/github`);
    await heading(page, 'GitHub');
    expect(await section.locator('[data-field=client-source]').innerText()).toContain('Deployment default');
    expect(await section.locator('[data-field=client-id]').count()).toBe(0);
    expect(await section.getByRole('button', { name: 'Remove Client' }).count()).toBe(0);
    const secretInput = section.getByLabel('Client Secret');
    expect(await secretInput.getAttribute('type')).toBe('password');
    expect(await secretInput.inputValue()).toBe('');

    // A missing secret: the API's sentence and code, under the field it names.
    await section.getByLabel('Client ID').fill('Iv1.console-org');
    await section.getByRole('button', { name: 'Save Client' }).click();
    await section.locator('.alert-error').waitFor();
    expect(await section.locator('.alert-error').innerText()).toContain('Error code: validation_failed');
    const secretField = section.locator('.field', { has: page.getByLabel('Client Secret') });
    expect(await secretField.locator('.field-error').innerText()).toMatch(/empty/);
    expect(await secretInput.getAttribute('aria-invalid')).toBe('true');
    expect(await clientOf('github')).toMatchObject({ source: 'deployment' });

    // Set: shown as the org's own, the client ID in full, the secret masked, the input emptied.
    await secretInput.fill(ORG_CLIENT_SECRET);
    await section.getByRole('button', { name: 'Save Client' }).click();
    await section.locator('[data-field=client-source]', { hasText: 'Your organization’s' }).waitFor();
    expect(await section.locator('[data-field=client-id]').innerText()).toBe('Iv1.console-org');
    expect(await section.locator('[data-field=client-secret]').innerText()).toContain('********');
    expect(await secretInput.inputValue()).toBe('');
    expect(await clientOf('github')).toMatchObject({ source: 'organization', clientId: 'Iv1.console-org', clientSecret: '********' });
    await page.screenshot({ path: join(DOCS, 'console-service-client.png'), fullPage: true });
    // Read again from the server: the same, and the secret is in no page.
    await page.reload();
    await section.locator('[data-field=client-id]', { hasText: 'Iv1.console-org' }).waitFor();
    expect(await secretInput.inputValue()).toBe('');
    for (const secret of [ORG_CLIENT_SECRET, DEPLOYMENT_CLIENT_SECRET]) expect(await page.content()).not.toContain(secret);

    // A member sees which app is used, and no control to change it.
    const bobContext = await newContext({ viewport: { width: 1280, height: 900 } });
    const bob = await signIn(bobContext, 'bob');
    await bob.goto(`${base}/console/services/github`);
    await heading(bob, 'GitHub');
    const bobSection = bob.getByRole('region', { name: 'OAuth Client' });
    expect(await bobSection.locator('[data-field=client-id]').innerText()).toBe('Iv1.console-org');
    expect(await bobSection.locator('[data-field=client-secret]').innerText()).toContain('********');
    expect(await bobSection.locator('input, select, textarea, button').count()).toBe(0);
    expect(await bob.getByLabel('Client Secret').count()).toBe(0);
    expect(await bob.getByRole('button', { name: /Save Client|Remove Client/ }).count()).toBe(0);
    expect(await bob.content()).not.toContain(ORG_CLIENT_SECRET);
    await bobContext.close();

    // Remove, in the pop-up that asks again (Cancel first changes nothing): back to the deployment's default.
    await section.getByRole('button', { name: 'Remove Client' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await clientOf('github')).toMatchObject({ source: 'organization' });
    await section.getByRole('button', { name: 'Remove Client' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, Remove' }).click();
    await section.locator('[data-field=client-source]', { hasText: 'Deployment default' }).waitFor();
    expect(await section.locator('[data-field=client-id]').count()).toBe(0);
    expect(await section.getByRole('button', { name: 'Remove Client' }).count()).toBe(0);
    expect(await clientOf('github')).toEqual({ source: 'deployment', clientId: null, clientSecret: null, updatedAt: null });
    expect(await page.content()).not.toContain(ORG_CLIENT_SECRET);
    await context.close();
  }, 60_000);

  it('works at 360 px wide and from the keyboard', async () => {
    const context = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await signIn(context, 'bob');
    // Nothing wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await page.goto(`${base}/console/shared`);
    await heading(page, 'Shared Connections');
    await page.locator('[data-connection=team_crm]').waitFor();
    await page.screenshot({ path: join(DOCS, 'console-mobile.png'), fullPage: true });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);

    // The first Tab reaches "Skip to content"; the tabs and the connection are links in reading order.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Skip to content');
    await page.locator('[data-connection=team_crm] a').focus();
    await page.keyboard.press('Enter');
    await heading(page, 'Team CRM');
    // Bob's copy is shared: he may revoke his own authorization, never edit or delete it.
    expect(await page.getByRole('button', { name: 'Revoke' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    // A member sees no link to the ops dashboard.
    expect(await page.getByRole('link', { name: 'Ops dashboard' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in to Plugboard');
    await context.close();
  }, 60_000);
});
