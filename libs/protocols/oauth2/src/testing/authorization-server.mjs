// A real OAuth 2 authorization server (oidc-provider 9) for the oauth2 library's integration tests.
//
// oidc-provider is ESM-only, so it runs in its own Node process; `authorization-server.ts` spawns this
// script with `node` and reads one JSON line from stdout:
//   {"ready":true,"issuer":"http://127.0.0.1:PORT","routes":{...}}
// Configuration arrives as JSON in the PLUGBOARD_TEST_AS_CONFIG environment variable:
//   { redirectUris: string[], accessTokenTtlSeconds: number, refreshTokenTtlSeconds: number,
//     clients: [{ client_id, client_secret, token_endpoint_auth_method }],
//     accounts?: { "<account id>": { "<claim>": value, … } },
//     strictRefreshTokens?: boolean, tokenResponseExtras?: object, callbackExtras?: { "<name>": "<value>" } }
//   strictRefreshTokens: refresh tokens as strict providers issue them: only for the offline_access scope, which
//        (OIDC Core §11) is granted only when the authorization request carried prompt=consent.
//   tokenResponseExtras: fields added to every successful token response (Salesforce's instance_url, Slack's team…).
//   callbackExtras: parameters added to the redirect back to the client (QuickBooks' realmId, Shopify's shop…).
//
// Test-only extras, served next to the provider on the same port:
//   GET  /__test/stats  → {"tokenRequests": n, "revocationRequests": n}  (requests that reached the endpoints)
//   POST /__test/reset  → resets those counters
//   GET  /__test/last-token-request → the last token request's form parameters, secrets (code, tokens, verifier,
//        client secret) left out
//   GET  /interaction/:uid  → browserless interaction: logs in the fixed account "test-user" and consents to
//        every requested scope, or denies with access_denied when the authorization request carried
//        `test_decision=deny` (an extraParam the provider is configured to keep).
//        With `accounts` configured, the login step is a real form instead (GET shows it, POST
//        /interaction/:uid/login signs in the account typed in), for tests that drive a browser; the userinfo
//        endpoint then answers each account's claims (scopes `profile` and `plugboard`).
// The process exits when its stdin closes (the parent died) or on SIGTERM/SIGINT.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import { Provider } from 'oidc-provider';

const config = JSON.parse(process.env.PLUGBOARD_TEST_AS_CONFIG ?? '{}');
const redirectUris = config.redirectUris ?? ['http://127.0.0.1/callback'];
const accessTokenTtl = config.accessTokenTtlSeconds ?? 60;
const refreshTokenTtl = config.refreshTokenTtlSeconds ?? 3600;
const clients = config.clients;
const accounts = config.accounts ?? null;
const tokenResponseExtras = config.tokenResponseExtras ?? null;
const callbackExtras = config.callbackExtras ?? null;
const SECRET_PARAMS = new Set(['code', 'code_verifier', 'client_secret', 'refresh_token', 'client_assertion']);
let lastTokenRequest = {};
const ACCOUNT_ID = 'test-user';

const routes = {
  authorization: '/auth',
  token: '/token',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  jwks: '/jwks',
  userinfo: '/me',
};

const counters = { tokenRequests: 0, revocationRequests: 0 };

let provider;
const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`authorization-server: ${err?.stack ?? err}\n`);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end('internal error');
    }
  });
});

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/__test/stats' && req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counters));
    return;
  }
  if (url.pathname === '/__test/reset' && req.method === 'POST') {
    counters.tokenRequests = 0;
    counters.revocationRequests = 0;
    res.statusCode = 204;
    res.end();
    return;
  }
  if (url.pathname === '/__test/last-token-request' && req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(lastTokenRequest));
    return;
  }
  if (req.method === 'POST' && url.pathname === routes.token) {
    counters.tokenRequests += 1;
    // Read here to record it; oidc-provider then parses the body it is handed (req.body) instead of the stream.
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    req.body = Buffer.concat(chunks).toString();
    lastTokenRequest = Object.fromEntries([...new URLSearchParams(req.body)].filter(([name]) => !SECRET_PARAMS.has(name)));
    if (tokenResponseExtras) addToJsonAnswer(res, tokenResponseExtras);
  }
  if (callbackExtras) addToRedirectBack(res, callbackExtras);
  if (req.method === 'POST' && url.pathname === routes.revocation) counters.revocationRequests += 1;

  if (url.pathname.startsWith('/interaction/') && req.method === 'GET') {
    await interact(req, res);
    return;
  }
  if (accounts && /^\/interaction\/[^/]+\/login$/.test(url.pathname) && req.method === 'POST') {
    await submitLogin(req, res);
    return;
  }
  provider.callback()(req, res);
}

// Merges fields into a successful JSON answer as it is sent (koa sets the headers, then ends with the body).
function addToJsonAnswer(res, extras) {
  const end = res.end.bind(res);
  res.end = (body, ...rest) => {
    if (res.statusCode === 200 && body && String(res.getHeader('content-type') ?? '').includes('json')) {
      const merged = JSON.stringify({ ...JSON.parse(body.toString()), ...extras });
      res.setHeader('content-length', Buffer.byteLength(merged));
      return end(merged, ...rest);
    }
    return end(body, ...rest);
  };
}

// Adds parameters to a redirect back to a registered redirect URI, as providers that send data with the code do.
function addToRedirectBack(res, extras) {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (String(name).toLowerCase() === 'location' && typeof value === 'string' && redirectUris.some((uri) => value.startsWith(uri))) {
      const back = new URL(value);
      if (back.searchParams.has('code')) for (const [key, extra] of Object.entries(extras)) back.searchParams.set(key, extra);
      return setHeader(name, back.href);
    }
    return setHeader(name, value);
  };
}

// The interaction a browser user would go through, decided without one.
async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;

  if (params.test_decision === 'deny') {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User denied the request' },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  if (prompt.name === 'login') {
    if (accounts) {
      loginForm(res, details.uid, '');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT_ID } }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    if (prompt.details.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const result = { consent: { grantId: await grant.save() } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    return;
  }

  res.statusCode = 501;
  res.end(`prompt ${prompt.name} not implemented`);
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginForm(res, uid, problem) {
  res.statusCode = problem ? 401 : 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html><head><title>Sign in · test identity provider</title></head><body>
<h1>Test identity provider</h1>${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login"><label>Account <input name="login" autofocus></label> <button type="submit">Sign in</button></form></body></html>`);
}

async function submitLogin(req, res) {
  const details = await provider.interactionDetails(req, res);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const login = new URLSearchParams(Buffer.concat(chunks).toString()).get('login') ?? '';
  if (!Object.hasOwn(accounts, login)) {
    loginForm(res, details.uid, 'No such account.');
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
}

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    scope: 'openid offline_access api:read api:write profile plugboard',
  })),
  scopes: ['openid', 'offline_access', 'api:read', 'api:write', 'profile', 'plugboard'],
  // What the userinfo endpoint may answer, per scope: the accounts' own claims (org and role for Plugboard's operators).
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], plugboard: ['plugboard_org', 'plugboard_role'] },
  // Kept in the interaction's params so the browserless interaction can be told to deny.
  extraParams: ['test_decision'],
  routes,
  jwks: { keys: [{ ...signingKey, kid: 'test-key', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['plugboard-test-authorization-server'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ ...(accounts?.[sub] ?? {}), sub }) }),
  // Every client must use PKCE with S256 for the authorization code grant.
  pkce: { required: () => true },
  // Refresh tokens for every authorization code grant of a client allowed to refresh, as most OAuth 2
  // providers do (oidc-provider's default wants offline_access AND prompt=consent).
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && (!config.strictRefreshTokens || code.scopes.has('offline_access')),
  // Every refresh rotates the refresh token; presenting a consumed one fails with invalid_grant
  // (and revokes the whole grant, as the spec's reuse detection suggests).
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  ttl: {
    AccessToken: accessTokenTtl,
    ClientCredentials: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: refreshTokenTtl,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  // No HTML error pages on the protocol level: the tests read the redirect or JSON.
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`authorization-server server_error: ${err?.stack ?? err}\n`));

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ ready: true, issuer, routes })}\n`);
