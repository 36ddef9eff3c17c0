// Test helper: a real OAuth 2 authorization server (oidc-provider) in a child process, and a browserless
// user agent to complete its authorization flow. oidc-provider is ESM-only, which jest (CommonJS) cannot load,
// hence the separate `node authorization-server.mjs` process. Not exported from the library's main index.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { ClientAuthMethod } from '../oauth2.client';

export interface AuthorizationServerOptions {
  /** Redirect URIs registered for every client. Nothing needs to listen on them. */
  redirectUris: string[];
  /** Lifetime of access tokens (authorization code, refresh and client credentials grants). Default 60 s. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of refresh tokens. Default 3600 s. */
  refreshTokenTtlSeconds?: number;
  /** How long to wait for the child to be ready. Default 20 000 ms. */
  startTimeoutMs?: number;
  /**
   * Accounts and the claims userinfo answers for each (scopes `profile`: name, preferred_username; `plugboard`:
   * plugboard_org, plugboard_role). When given, logging in is a form a browser fills in with the account id,
   * instead of the automatic login of the fixed account `test-user`.
   */
  accounts?: Record<string, Record<string, string>>;
  /**
   * Refresh tokens as strict providers (Google, Microsoft) issue them: only when asked, i.e. for the `offline_access`
   * scope, which oidc-provider grants only to an authorization request with `prompt=consent` (OIDC Core §11).
   */
  strictRefreshTokens?: boolean;
  /** Fields added to every successful token response (Salesforce's `instance_url`, Zoho's `api_domain`, Slack's `team`). */
  tokenResponseExtras?: Record<string, unknown>;
  /** Parameters added to the redirect back with the code (QuickBooks' `realmId`, Shopify's `shop`). */
  callbackExtras?: Record<string, string>;
}

export interface TestClient {
  clientId: string;
  /** Random per server start. */
  clientSecret: string;
  clientAuth: ClientAuthMethod;
}

export interface TestAuthorizationServer {
  /** `http://127.0.0.1:<port>`: pass it as `issuer` (with `allowInsecureLocalhost`) to get `iss` and ID tokens checked. */
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  introspectUrl: string;
  userinfoUrl: string;
  /**
   * Both clients may use authorization_code (PKCE S256 required), refresh_token (rotated on every use) and
   * client_credentials, with scopes `openid offline_access api:read api:write profile plugboard`.
   */
  clients: { basic: TestClient; post: TestClient };
  /** POST requests that reached the token endpoint since start or the last `resetCounters()`. */
  tokenRequests(): Promise<number>;
  /** POST requests that reached the revocation endpoint since start or the last `resetCounters()`. */
  revocationRequests(): Promise<number>;
  resetCounters(): Promise<void>;
  /** The form parameters of the last token request, without its secrets (code, tokens, verifier, client secret). */
  lastTokenRequest(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

interface ReadyLine {
  ready: true;
  issuer: string;
  routes: { authorization: string; token: string; revocation: string; introspection: string; userinfo: string };
}

const SCRIPT = join(__dirname, 'authorization-server.mjs');

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<TestAuthorizationServer> {
  const clients = {
    basic: { clientId: 'plugboard-basic', clientSecret: `basic-${randomBytes(24).toString('base64url')}`, clientAuth: 'client_secret_basic' as const },
    post: { clientId: 'plugboard-post', clientSecret: `post-${randomBytes(24).toString('base64url')}`, clientAuth: 'client_secret_post' as const },
  };
  const config = {
    redirectUris: options.redirectUris,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 60,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 3600,
    accounts: options.accounts,
    strictRefreshTokens: options.strictRefreshTokens ?? false,
    tokenResponseExtras: options.tokenResponseExtras,
    callbackExtras: options.callbackExtras,
    clients: Object.values(clients).map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      token_endpoint_auth_method: c.clientAuth,
    })),
  };

  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, PLUGBOARD_TEST_AS_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = collectStderr(child);
  const ready = await waitForReady(child, options.startTimeoutMs ?? 20_000, stderr).catch(async (err: unknown) => {
    await stopChild(child);
    throw err;
  });

  const { issuer, routes } = ready;
  const stats = async (): Promise<{ tokenRequests: number; revocationRequests: number }> => {
    const response = await fetch(`${issuer}/__test/stats`);
    return (await response.json()) as { tokenRequests: number; revocationRequests: number };
  };
  return {
    issuer,
    authorizeUrl: `${issuer}${routes.authorization}`,
    tokenUrl: `${issuer}${routes.token}`,
    revokeUrl: `${issuer}${routes.revocation}`,
    introspectUrl: `${issuer}${routes.introspection}`,
    userinfoUrl: `${issuer}${routes.userinfo}`,
    clients,
    tokenRequests: async () => (await stats()).tokenRequests,
    revocationRequests: async () => (await stats()).revocationRequests,
    resetCounters: async () => {
      await fetch(`${issuer}/__test/reset`, { method: 'POST' });
    },
    lastTokenRequest: async () => (await (await fetch(`${issuer}/__test/last-token-request`)).json()) as Record<string, string>,
    stop: () => stopChild(child),
  };
}

/** The name the task brief uses. */
export const start = startAuthorizationServer;

function collectStderr(child: ChildProcessWithoutNullStreams): () => string {
  let buffer = '';
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    buffer = `${buffer}${line}\n`.slice(-8000);
    // oidc-provider's start-up warnings (dev adapter, Node version) are expected; anything else is shown.
    if (!line.startsWith('oidc-provider WARNING')) process.stderr.write(`[authorization-server] ${line}\n`);
  });
  return () => buffer;
}

function waitForReady(child: ChildProcessWithoutNullStreams, timeoutMs: number, stderr: () => string): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (reason: string) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`test authorization server did not start: ${reason}\n${stderr()}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal}`));
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(line) as ReadyLine;
        if (!parsed.ready) throw new Error('not ready');
        child.removeAllListeners('exit');
        resolve(parsed);
      } catch {
        fail(`unexpected output ${JSON.stringify(line)}`);
      }
    });
  });
}

function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.stdin.end();
    child.kill('SIGTERM');
  });
}

export interface BrowserlessAuthorizationResult {
  /** The redirect back to the client, e.g. `http://127.0.0.1/callback?code=...&state=...&iss=...`. */
  callbackUrl: string;
  params: URLSearchParams;
  code: string | null;
  state: string | null;
  error: string | null;
  errorDescription: string | null;
}

/**
 * Plays the browser: follows the authorization server's redirects (keeping its cookies) through the login and
 * consent interactions (which the test server completes on its own, or denies when the authorization URL has
 * `test_decision=deny`) until the redirect to the request's `redirect_uri`, and returns that callback.
 */
export async function authorizeBrowserlessly(authorizationUrl: string, options: { maxRedirects?: number } = {}): Promise<BrowserlessAuthorizationResult> {
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error('the authorization URL has no redirect_uri');
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < (options.maxRedirects ?? 10); hop++) {
    const headers: Record<string, string> = {};
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      const body = await response.text();
      throw new Error(`authorization flow stopped at ${url} with HTTP ${response.status}: ${body.slice(0, 500)}`);
    }
    await response.body?.cancel();
    url = new URL(location, url).href;
    if (url.startsWith(redirectUri)) {
      const params = new URL(url).searchParams;
      return {
        callbackUrl: url,
        params,
        code: params.get('code'),
        state: params.get('state'),
        error: params.get('error'),
        errorDescription: params.get('error_description'),
      };
    }
  }
  throw new Error(`authorization flow did not reach ${redirectUri} within ${options.maxRedirects ?? 10} redirects`);
}
