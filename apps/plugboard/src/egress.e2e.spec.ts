import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';

/**
 * The egress policy end to end: authorizations through the gateway and the connection app, against a real OAuth 1.0a
 * provider (it verifies signatures) that points its token calls inside the deployment, and an OAuth 2 token URL
 * written as an internal address. 127.0.0.1 is allowed (PLUGBOARD_INVOKE_ALLOW_HOSTS); 127.0.0.2 stands for
 * something inside the deployment that is not.
 */
describe('one egress policy for the OAuth calls', () => {
  let sys: TestSystem & { publicUrl: string };
  let provider: OAuth1Provider;
  let internal: Server;
  let internalUrl: string;
  const hits: string[] = [];
  let alice: string;

  beforeAll(async () => {
    internal = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
      res.end('INTERNAL-ONLY-DATA=1&oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true&access_token=a&token_type=bearer');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
    internalUrl = `http://127.0.0.2:${(internal.address() as AddressInfo).port}`;
    sys = await startTestSystem();
    provider = new OAuth1Provider({ consumers: [{ key: 'egress-consumer', secret: 'egress-consumer-secret' }], redirectTokenCallsTo: internalUrl });
    const base = (await provider.start()).baseUrl;
    alice = await sys.key('acme', 'member');
    const services = [
      {
        name: 'Redirecting OAuth 1',
        linkName: 'redirecting_oauth1',
        authType: 'oauth1',
        oauth1: { consumerKey: 'egress-consumer', consumerSecret: 'egress-consumer-secret', requestTokenUrl: `${base}/oauth/request_token`, authorizeUrl: `${base}/oauth/authorize`, accessTokenUrl: `${base}/oauth/access_token`, paramType: 'header' },
      },
      {
        name: 'Internal OAuth 2',
        linkName: 'internal_oauth2',
        authType: 'oauth2',
        oauth2: { grantType: 'client_credentials', clientId: 'c', clientSecret: 'internal-client-secret', accessTokenUrl: `https://127.0.0.2:${new URL(internalUrl).port}/token`, paramType: 'header', scopeDelimiter: 'space', scopes: [] },
      },
    ];
    for (const service of services) expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
    for (const [linkName, service] of [['legacy', 'redirecting_oauth1'], ['machine', 'internal_oauth2']]) {
      expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service })).status).toBe(201);
    }
  }, 90_000);
  afterAll(async () => {
    await provider?.stop();
    await sys?.close();
    internal.closeAllConnections();
    await new Promise((resolve) => internal.close(resolve));
  });

  it('OAuth 1.0a: a provider answering 307 to an internal address is not followed, and nothing from there is shown', async () => {
    const started = await sys.call('POST', '/v1/connections/legacy/authorize', alice, {});
    expect(started.status).toBe(502);
    expect(started.body.error).toEqual({ code: 'authorization_failed', message: 'The provider refused the authorization: request token: the provider answered with a redirect (HTTP 307), which Plugboard does not follow.' });
    expect(provider.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /oauth/request_token 307']);
    expect(hits).toEqual([]);
    expect(sys.logs()).not.toContain('INTERNAL-ONLY-DATA');
    expect((await sys.call('GET', '/v1/connections/legacy', alice)).body.status).toBe('pending');
  }, 30_000);

  it('OAuth 2: a token URL at an internal address is refused as private_address before anything is sent', async () => {
    const started = await sys.call('POST', '/v1/connections/machine/authorize', alice, {});
    expect(started.status).toBe(403);
    expect(started.body.error.code).toBe('private_address');
    expect(started.body.error.message).toMatch(/127\.0\.0\.2 is a private or local address/);
    expect(JSON.stringify(started.body)).not.toContain('internal-client-secret');
    expect(hits).toEqual([]);
  }, 30_000);
});
