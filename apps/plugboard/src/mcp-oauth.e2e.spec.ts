import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

/** Where the MCP client is sent back with the code; nothing listens there (the test reads the redirect). */
const CLIENT_CALLBACK = 'http://127.0.0.1:9/mcp-client/callback';

/**
 * The MCP authorization spec, end to end: the SDK's client gets a 401 from /mcp, reads the protected-resource
 * metadata, signs the user in at the org's OpenID Connect provider (oidc-provider, a real server) with PKCE, and calls
 * the tools with the provider's access token; Plugboard takes the user, org and role from the provider's userinfo.
 */
describe('MCP sign-in with the org’s OpenID Connect provider', () => {
  let sys: TestSystem & { publicUrl: string };
  let oidc: TestAuthorizationServer;
  const clients: Client[] = [];

  /** An MCP client's OAuth state, as the SDK asks a client application to keep it; `signIn` plays the user's browser. */
  function provider(account: string): OAuthClientProvider & { authorizationCode: Promise<string> } {
    let tokens: OAuthTokens | undefined;
    let verifier = '';
    let gotCode: (code: string) => void = () => undefined;
    let failed: (error: unknown) => void = () => undefined;
    const authorizationCode = new Promise<string>((resolve, reject) => ((gotCode = resolve), (failed = reject)));
    return {
      authorizationCode,
      redirectUrl: CLIENT_CALLBACK,
      get clientMetadata(): OAuthClientMetadata {
        return { client_name: 'test agent', redirect_uris: [CLIENT_CALLBACK], token_endpoint_auth_method: 'client_secret_post' };
      },
      // A client registered with the provider beforehand (the test provider has no dynamic registration).
      clientInformation: (): OAuthClientInformationMixed => ({ client_id: oidc.clients.post.clientId, client_secret: oidc.clients.post.clientSecret, redirect_uris: [CLIENT_CALLBACK], token_endpoint_auth_method: 'client_secret_post' }),
      tokens: () => tokens,
      saveTokens: (saved) => void (tokens = saved),
      saveCodeVerifier: (saved) => void (verifier = saved),
      codeVerifier: () => verifier,
      redirectToAuthorization: (url) => void signIn(url, account).then(gotCode, failed),
      // No RFC 8707 resource parameter: this provider knows no resource servers (oidc-provider refuses an unknown one
      // as invalid_target), and its tokens for a resource server are JWTs its own userinfo does not take.
      validateResourceURL: async () => undefined,
    };
  }

  /** Plays the browser at the provider: its login form (the account typed in), consent, and the redirect back with a code. */
  async function signIn(authorizationUrl: URL, account: string): Promise<string> {
    const cookies = new Map<string, string>();
    let url = authorizationUrl.href;
    let form: URLSearchParams | null = null;
    for (let hop = 0; hop < 12; hop++) {
      const response = await fetch(url, {
        redirect: 'manual',
        method: form ? 'POST' : 'GET',
        body: form ?? undefined,
        headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      });
      form = null;
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
      }
      const location = response.headers.get('location');
      if (location) {
        url = new URL(location, url).href;
        if (url.startsWith(CLIENT_CALLBACK)) return new URL(url).searchParams.get('code') ?? Promise.reject(new Error(`no code: ${url}`));
        continue;
      }
      const action = /action="(\/interaction\/[^"]+\/login)"/.exec(await response.text())?.[1];
      if (!action) throw new Error(`the provider stopped at ${url} with HTTP ${response.status}`);
      url = new URL(action, url).href;
      form = new URLSearchParams({ login: account });
    }
    throw new Error('the sign-in did not come back');
  }

  /** The SDK's flow: connect, get 401, sign in, finish with the code, connect again with the token. */
  async function signedInAgent(account: string, headers: Record<string, string> = {}): Promise<Client> {
    const auth = provider(account);
    const url = new URL(`${sys.publicUrl}/mcp`);
    const first = new StreamableHTTPClientTransport(url, { authProvider: auth, requestInit: { headers } });
    await expect(new Client({ name: 'agent', version: '1.0.0' }).connect(first)).rejects.toThrow(/Unauthorized/i);
    await first.finishAuth(await auth.authorizationCode);
    const client = new Client({ name: 'agent', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: auth, requestInit: { headers } }));
    return client;
  }
  const json = (result: CallToolResult) => JSON.parse((result.content[0] as { text: string }).text);

  beforeAll(async () => {
    oidc = await startAuthorizationServer({
      redirectUris: [CLIENT_CALLBACK],
      accounts: {
        ada: { name: 'Ada', plugboard_org: 'acme', plugboard_role: 'member' },
        grace: { name: 'Grace', plugboard_org: 'globex', plugboard_role: 'member' },
        norole: { name: 'No Role', plugboard_org: 'acme' },
      },
    });
    const settings = { issuer: oidc.issuer, authorizeUrl: oidc.authorizeUrl, tokenUrl: oidc.tokenUrl, userinfoUrl: oidc.userinfoUrl, clientId: oidc.clients.post.clientId, clientSecret: oidc.clients.post.clientSecret, scope: 'openid profile plugboard' };
    sys = await startTestSystem({ PLUGBOARD_OPERATOR_OIDC: JSON.stringify(settings) });
    const acme = await sys.key('acme', 'member');
    for (const [org, key, linkName] of [['acme', acme, 'acme_api'], ['globex', await sys.key('globex', 'member'), 'globex_api']]) {
      expect((await sys.call('POST', '/v1/services', key, { name: linkName, linkName, authType: 'basic', baseUrl: 'https://api.example.com' }, 'someone')).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections', key, { name: `${org} API`, linkName, service: linkName }, 'someone')).status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await sys?.close();
    await oidc?.stop();
  });

  it('publishes the provider as the authorization server of /mcp', async () => {
    const metadata = await (await fetch(`${sys.publicUrl}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(metadata).toMatchObject({ resource: `${sys.publicUrl}/mcp`, authorization_servers: [oidc.issuer], scopes_supported: ['openid', 'profile', 'plugboard'] });
  });

  it('signs an agent in through the provider, as the person, in their org', async () => {
    const client = await signedInAgent('ada');
    const listed = json((await client.callTool({ name: 'list_connections', arguments: {} })) as CallToolResult);
    // The connections are someone else's (own lists what ada made): the org is right, and nothing of globex shows.
    expect(listed.connections).toEqual([]);
    expect(json((await client.callTool({ name: 'describe_connection', arguments: { connection: 'acme_api' } })) as CallToolResult)).toMatchObject({ linkName: 'acme_api', baseUrl: 'https://api.example.com' });
    const other = (await client.callTool({ name: 'describe_connection', arguments: { connection: 'globex_api' } })) as CallToolResult;
    expect(json(other).error.code).toBe('connection_not_found');
  });

  it('a signed-in person acts as themselves only, and a token the provider does not vouch for is refused', async () => {
    await expect(signedInAgent('ada', { 'x-user-id': 'bob' })).rejects.toThrow(/user_mismatch/);
    const bogus = await fetch(`${sys.publicUrl}/mcp`, { method: 'POST', headers: { authorization: 'Bearer not-a-token-of-the-provider', 'content-type': 'application/json' }, body: '{}' });
    expect(bogus.status).toBe(401);
    expect(bogus.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", resource_metadata="${sys.publicUrl}/.well-known/oauth-protected-resource/mcp"`);
    // A JWT issued for another resource (RFC 8707 audience) is someone else's token, whatever its provider says of it.
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const elsewhere = `${encode({ alg: 'RS256' })}.${encode({ sub: 'ada', aud: 'https://other.example/mcp' })}.c2ln`;
    const foreign = await fetch(`${sys.publicUrl}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${elsewhere}`, 'content-type': 'application/json' }, body: '{}' });
    expect(foreign.status).toBe(401);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toMatch(/not issued for Plugboard/);
    await expect(signedInAgent('norole')).rejects.toThrow(/no Plugboard role/);
  });
});
