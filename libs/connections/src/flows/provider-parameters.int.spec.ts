// Values a provider gives with an authorization (token response fields, callback parameters), taken as the catalog
// declares them, against a real authorization server (oidc-provider) that answers with such fields.
import { findCatalogEntry, parametersFromAuthorization, type CatalogEntry } from '@plugboard/catalog';
import { buildAuthorizationRequest, exchangeCode, parseAuthorizationResponse } from '@plugboard/oauth2';
import { authorizeBrowserlessly, startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { predefinedCalls, serviceTargetOf } from '@plugboard/outbound';

const REDIRECT_URI = 'http://127.0.0.1:9/v1/oauth/callback';

/** Goes through consent and the code exchange; answers what Plugboard's callback gets: the token response's fields and the query. */
async function authorizeAt(server: TestAuthorizationServer) {
  const client = server.clients.post;
  const request = await buildAuthorizationRequest({ authorizeUrl: server.authorizeUrl, clientId: client.clientId, redirectUri: REDIRECT_URI, scopes: ['api:read'], scopeDelimiter: 'space', pkce: true, allowInsecureLocalhost: true });
  const callback = await authorizeBrowserlessly(request.url);
  const { code } = parseAuthorizationResponse({ callback: callback.callbackUrl, expectedState: request.state });
  const tokens = await exchangeCode({ ...client, allowInsecureLocalhost: true, tokenUrl: server.tokenUrl, redirectUri: REDIRECT_URI, code, codeVerifier: request.codeVerifier });
  return { tokenResponse: tokens.raw, callback: Object.fromEntries(callback.params), accessToken: tokens.accessToken };
}

function entry(linkName: string): CatalogEntry {
  const found = findCatalogEntry(linkName);
  if (!found) throw new Error(`${linkName} is not in the catalog`);
  return found;
}

describe('parameters from the provider, with a real authorization server', () => {
  let server: TestAuthorizationServer;
  afterEach(() => server?.stop());

  it('QuickBooks: the callback’s realmId fills the base URL', async () => {
    server = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], callbackExtras: { realmId: '9130357766900456' } });
    const data = await authorizeAt(server);
    const learned = parametersFromAuthorization(entry('quickbooks'), data, {});
    expect(learned).toEqual({ realmId: '9130357766900456' });
    const target = serviceTargetOf(predefinedCalls(entry('quickbooks'), learned));
    expect(target?.baseUrl).toBe('https://quickbooks.api.intuit.com/v3/company/9130357766900456');
  });

  it('Salesforce, Slack and Zoho: token response fields, checked against the connection’s instance and the hosts', async () => {
    server = await startAuthorizationServer({
      redirectUris: [REDIRECT_URI],
      tokenResponseExtras: { instance_url: 'https://acme.my.salesforce.com', team: { id: 'T0123ABCD', name: 'Acme' }, api_domain: 'https://www.zohoapis.eu' },
    });
    const data = await authorizeAt(server);
    expect(JSON.stringify(data.tokenResponse)).not.toContain(data.accessToken);
    expect(parametersFromAuthorization(entry('salesforce'), data, { instance: 'acme' })).toEqual({ instance: 'acme' });
    expect(() => parametersFromAuthorization(entry('salesforce'), data, { instance: 'globex' })).toThrow(/another My Domain name/);
    expect(parametersFromAuthorization(entry('slack'), data, {})).toEqual({ teamId: 'T0123ABCD' });
    expect(parametersFromAuthorization(entry('zoho_eu'), data, {})).toEqual({ apiDomain: 'www.zohoapis.eu' });
    // The same answer from a provider of another data centre is refused: the domain is not that entry's.
    expect(() => parametersFromAuthorization(entry('zoho_com'), data, {})).toThrow(/does not accept/);
  });

  it('refuses a provider value that would send the credential elsewhere', async () => {
    server = await startAuthorizationServer({ redirectUris: [REDIRECT_URI], tokenResponseExtras: { instance_url: 'https://acme.my.salesforce.com.evil.example' }, callbackExtras: { shop: 'evil.example' } });
    const data = await authorizeAt(server);
    expect(() => parametersFromAuthorization(entry('salesforce'), data, { instance: 'acme' })).toThrow(/does not accept/);
    expect(() => parametersFromAuthorization(entry('shopify'), data, { shop: 'acme' })).toThrow(/does not accept/);
  });
});
