import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  authorizeUrl,
  getAccessToken,
  getRequestToken,
  OAuth1Error,
  signRequest,
  type OAuth1Credentials,
  type OAuth1SignatureMethod,
  type SignedRequest,
} from './oauth1.client';
import { OAuth1Provider, type EchoResponse } from './testing';

const consumer = { key: 'plugboard-consumer', secret: 'CONSUMER-SECRET-7f3a9' };
const callbackUrl = 'https://app.plugboard.test/oauth1/callback?state=s-42';

/** Asserts that none of the secrets shows in anything a caller could log. */
function expectNoSecrets(error: unknown, secrets: string[]) {
  expect(error).toBeInstanceOf(OAuth1Error);
  const e = error as OAuth1Error;
  const surfaces = [e.message, e.problem ?? '', e.stack ?? '', JSON.stringify(e), inspect(e), String(e)];
  for (const secret of secrets) {
    for (const surface of surfaces) {
      expect(surface).not.toContain(secret);
      expect(surface).not.toContain(encodeURIComponent(secret));
    }
  }
}

async function caught(promise: Promise<unknown>): Promise<OAuth1Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuth1Error);
    return error as OAuth1Error;
  }
  throw new Error('expected an OAuth1Error');
}

async function send(request: SignedRequest): Promise<{ status: number; json: any }> {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  return { status: response.status, json: await response.json() };
}

/** A throwaway server for provider misbehaviour the real provider never shows. */
async function fakeProvider(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OAuth 1.0a three-legged flow against the local provider', () => {
  const provider = new OAuth1Provider({ consumers: [consumer, { key: 'other-consumer', secret: 'OTHER-SECRET-55' }] });
  let baseUrl: string;
  beforeAll(async () => {
    ({ baseUrl } = await provider.start());
  });
  afterAll(() => provider.stop());

  const endpoints = () => ({
    requestTokenUrl: `${baseUrl}/oauth/request_token`,
    authorize: `${baseUrl}/oauth/authorize`,
    accessTokenUrl: `${baseUrl}/oauth/access_token`,
    echo: `${baseUrl}/api/echo`,
  });

  /** Request token, then the user's (auto-)consent followed by hand, as a browser would. */
  async function authorizedRequestToken(signatureMethod: OAuth1SignatureMethod = 'HMAC-SHA1', approve = '1') {
    const requestToken = await getRequestToken({ requestTokenUrl: endpoints().requestTokenUrl, consumer, callbackUrl, signatureMethod });
    expect(requestToken.callbackConfirmed).toBe(true);
    const redirect = await fetch(authorizeUrl(endpoints().authorize, requestToken.token, { approve }), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://app.plugboard.test/oauth1/callback');
    expect(location.searchParams.get('state')).toBe('s-42');
    return { requestToken, location, verifier: location.searchParams.get('oauth_verifier') ?? '' };
  }

  async function accessTokenFor(signatureMethod: OAuth1SignatureMethod) {
    const { requestToken, location, verifier } = await authorizedRequestToken(signatureMethod);
    expect(location.searchParams.get('oauth_token')).toBe(requestToken.token);
    const access = await getAccessToken({
      accessTokenUrl: endpoints().accessTokenUrl,
      consumer,
      requestToken: { key: requestToken.token, secret: requestToken.tokenSecret },
      verifier,
      signatureMethod,
    });
    return { requestToken, verifier, access };
  }

  it.each<OAuth1SignatureMethod>(['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT'])('%s: request token → authorize → access token → signed calls', async (signatureMethod) => {
    provider.clearRequests();
    const { access } = await accessTokenFor(signatureMethod);
    expect(access.extra).toEqual({ user_id: '1001', screen_name: 'plugboard_tester' });
    const token: OAuth1Credentials = { key: access.token, secret: access.tokenSecret };
    const oauth = { consumer_key: consumer.key, token: access.token };

    const get = await send(
      signRequest({ method: 'GET', url: `${endpoints().echo}?file=vacation.jpg&size=original&q=a+b%2Bc`, consumer, token, signatureMethod }),
    );
    expect(get).toEqual({
      status: 200,
      json: { ok: true, method: 'GET', path: '/api/echo', query: { file: 'vacation.jpg', size: 'original', q: 'a b+c' }, form: {}, oauth },
    });

    const post = await send(
      signRequest({
        method: 'POST',
        url: `${endpoints().echo}?page=2`,
        consumer,
        token,
        signatureMethod,
        paramType: 'form',
        form: { status: 'Hällo & welcome = 100%', tag: "*!'()" },
      }),
    );
    expect(post.status).toBe(200);
    expect(post.json as EchoResponse).toEqual({
      ok: true,
      method: 'POST',
      path: '/api/echo',
      query: { page: '2' },
      form: { status: 'Hällo & welcome = 100%', tag: "*!'()" },
      oauth,
    });

    const viaQuery = await send(signRequest({ method: 'DELETE', url: `${endpoints().echo}?id=7`, consumer, token, signatureMethod, paramType: 'query' }));
    expect(viaQuery).toEqual({ status: 200, json: { ok: true, method: 'DELETE', path: '/api/echo', query: { id: '7' }, form: {}, oauth } });

    const viaHeader = await send(signRequest({ method: 'PUT', url: endpoints().echo, consumer, token, signatureMethod, paramType: 'header', form: { a: '1' } }));
    expect(viaHeader).toEqual({ status: 200, json: { ok: true, method: 'PUT', path: '/api/echo', query: {}, form: { a: '1' }, oauth } });

    expect(provider.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /oauth/request_token 200',
      'GET /oauth/authorize 302',
      'POST /oauth/access_token 200',
      'GET /api/echo 200',
      'POST /api/echo 200',
      'DELETE /api/echo 200',
      'PUT /api/echo 200',
    ]);
    // The form-placed protocol parameters really travelled in the body.
    expect(provider.requests[4].body).toContain('oauth_signature=');
    expect(provider.requests[4].headers.authorization).toBeUndefined();
  });

  it('refuses a wrong consumer secret with a 401 that names neither secret', async () => {
    const error = await caught(
      getRequestToken({ requestTokenUrl: endpoints().requestTokenUrl, consumer: { ...consumer, secret: 'WRONG-SECRET-0000' }, callbackUrl, signatureMethod: 'HMAC-SHA1' }),
    );
    expect(error).toMatchObject({ code: 'provider_refused', status: 401 });
    expect(error.problem).toBe('signature_invalid');
    expect(error.message).toMatch(/HTTP 401 \(signature_invalid\)$/);
    expectNoSecrets(error, [consumer.secret, 'WRONG-SECRET-0000']);

    // PLAINTEXT puts the secret on the wire; it still stays out of the error.
    const plaintext = await caught(
      getRequestToken({ requestTokenUrl: endpoints().requestTokenUrl, consumer: { ...consumer, secret: 'WRONG-SECRET-0000' }, callbackUrl, signatureMethod: 'PLAINTEXT' }),
    );
    expect(plaintext.status).toBe(401);
    expectNoSecrets(plaintext, [consumer.secret, 'WRONG-SECRET-0000']);
  });

  it('refuses an unknown consumer', async () => {
    const error = await caught(
      getRequestToken({ requestTokenUrl: endpoints().requestTokenUrl, consumer: { key: 'nobody', secret: 'NOBODY-SECRET' }, callbackUrl, signatureMethod: 'HMAC-SHA1' }),
    );
    expect(error).toMatchObject({ status: 401 });
    expect(error.problem).toBe('consumer_key_unknown');
    expect(error.message).toMatch(/HTTP 401 \(consumer_key_unknown\)$/);
    expectNoSecrets(error, ['NOBODY-SECRET']);
  });

  it('denied authorization redirects with denied=<token>, and that token buys nothing', async () => {
    const { requestToken, location } = await authorizedRequestToken('HMAC-SHA1', '0');
    expect(location.searchParams.get('denied')).toBe(requestToken.token);
    expect(location.searchParams.has('oauth_verifier')).toBe(false);
    const error = await caught(
      getAccessToken({
        accessTokenUrl: endpoints().accessTokenUrl,
        consumer,
        requestToken: { key: requestToken.token, secret: requestToken.tokenSecret },
        verifier: 'guess',
        signatureMethod: 'HMAC-SHA1',
      }),
    );
    expect(error).toMatchObject({ code: 'provider_refused', status: 401 });
    expect(error.problem).toBe('token_rejected');
    expect(error.message).toMatch(/HTTP 401 \(token_rejected\)$/);
    expectNoSecrets(error, [consumer.secret, requestToken.tokenSecret]);
  });

  it('a request token and its verifier work once only', async () => {
    const { requestToken, verifier } = await authorizedRequestToken();
    const exchange = () =>
      getAccessToken({
        accessTokenUrl: endpoints().accessTokenUrl,
        consumer,
        requestToken: { key: requestToken.token, secret: requestToken.tokenSecret },
        verifier,
        signatureMethod: 'HMAC-SHA1',
      });
    await expect(exchange()).resolves.toMatchObject({ extra: { user_id: '1001' } });
    const error = await caught(exchange());
    expect(error).toMatchObject({ status: 401 });
    expect(error.problem).toBe('token_used');
    expect(error.message).toMatch(/HTTP 401 \(token_used\)$/);
    expectNoSecrets(error, [consumer.secret, requestToken.tokenSecret]);
  });

  it('a wrong verifier is refused and spends the request token', async () => {
    const { requestToken, verifier } = await authorizedRequestToken();
    const exchange = (v: string) =>
      getAccessToken({
        accessTokenUrl: endpoints().accessTokenUrl,
        consumer,
        requestToken: { key: requestToken.token, secret: requestToken.tokenSecret },
        verifier: v,
        signatureMethod: 'HMAC-SHA1',
      });
    const wrong = await caught(exchange(`${verifier}x`));
    expect(wrong.status).toBe(401);
    expect(wrong.problem).toBe('verifier_invalid');
    expect((await caught(exchange(verifier))).problem).toBe('token_used');
  });

  it('refuses a replayed nonce, a stale timestamp, tampering, a foreign token and unsigned calls', async () => {
    const token = provider.issueAccessToken(consumer.key);
    const echo = `${endpoints().echo}?amount=10`;

    const signed = signRequest({ method: 'GET', url: echo, consumer, token, signatureMethod: 'HMAC-SHA1' });
    expect((await send(signed)).status).toBe(200);
    expect(await send(signed)).toEqual({ status: 401, json: expect.objectContaining({ ok: false, problem: 'nonce_used' }) });

    const stale = signRequest({ method: 'GET', url: echo, consumer, token, signatureMethod: 'HMAC-SHA1', timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await send(stale)).json).toMatchObject({ problem: 'timestamp_refused' });

    const fresh = signRequest({ method: 'GET', url: echo, consumer, token, signatureMethod: 'HMAC-SHA1', paramType: 'query' });
    expect((await send({ ...fresh, url: fresh.url.replace('amount=10', 'amount=1000') })).json).toMatchObject({ problem: 'signature_invalid' });

    const posted = signRequest({ method: 'POST', url: echo, consumer, token, signatureMethod: 'HMAC-SHA1', form: { to: 'alice' } });
    expect((await send({ ...posted, body: 'to=mallory' })).json).toMatchObject({ problem: 'signature_invalid' });

    const theirs = provider.issueAccessToken('other-consumer');
    expect((await send(signRequest({ method: 'GET', url: echo, consumer, token: theirs, signatureMethod: 'HMAC-SHA1' }))).json).toMatchObject({
      problem: 'token_rejected',
    });

    const unsigned = await fetch(echo);
    expect(unsigned.status).toBe(401);
    expect(provider.requests.at(-1)).toMatchObject({ status: 401, problem: 'parameter_absent' });
  });

  it('refuses protocol parameters sent in two places', async () => {
    const token = provider.issueAccessToken(consumer.key);
    const signed = signRequest({ method: 'GET', url: endpoints().echo, consumer, token, signatureMethod: 'HMAC-SHA1' });
    const again = signRequest({ method: 'GET', url: endpoints().echo, consumer, token, signatureMethod: 'HMAC-SHA1', paramType: 'query' });
    const response = await send({ ...again, headers: signed.headers });
    expect(response).toMatchObject({ status: 400, json: { problem: 'parameter_rejected' } });
  });
});

describe('OAuth 1.0a client against misbehaving providers', () => {
  const secrets = [consumer.secret];

  it('refuses a request token whose callback is not confirmed', async () => {
    const fake = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-www-form-urlencoded' });
      res.end('oauth_token=rt&oauth_token_secret=RT-SECRET-ABC');
    });
    try {
      const error = await caught(getRequestToken({ requestTokenUrl: `${fake.url}/rt`, consumer, callbackUrl, signatureMethod: 'HMAC-SHA1' }));
      expect(error).toMatchObject({ code: 'callback_not_confirmed', status: 200 });
      expectNoSecrets(error, [...secrets, 'RT-SECRET-ABC']);
    } finally {
      await fake.close();
    }
  });

  it('keeps secrets a provider echoes back out of the error, and repeats none of its answer', async () => {
    // A provider that reflects the PLAINTEXT signature (the secrets themselves) in a long error page.
    const fake = await fakeProvider((req, res) => {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end(`bad request: ${req.headers.authorization} ${decodeURIComponent(req.headers.authorization ?? '')} ${'x'.repeat(1000)}`);
    });
    try {
      const requestToken = { key: 'rt', secret: 'REQUEST-TOKEN-SECRET-42' };
      const error = await caught(
        getAccessToken({ accessTokenUrl: `${fake.url}/at`, consumer, requestToken, verifier: 'v', signatureMethod: 'PLAINTEXT' }),
      );
      expect(error).toMatchObject({ code: 'provider_refused', status: 401 });
      expect(error.problem).toBeNull();
      expect(error.message).toBe('access token: the provider answered HTTP 401');
      expectNoSecrets(error, [...secrets, requestToken.secret]);
    } finally {
      await fake.close();
    }
  });

  it('reports an answer without credentials as invalid, without the issued secret', async () => {
    const fake = await fakeProvider((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('oauth_token_secret=ISSUED-SECRET-9&oops=1');
    });
    try {
      const error = await caught(getRequestToken({ requestTokenUrl: `${fake.url}/rt`, consumer, signatureMethod: 'HMAC-SHA1' }));
      expect(error).toMatchObject({ code: 'invalid_response', status: 200 });
      expectNoSecrets(error, [...secrets, 'ISSUED-SECRET-9']);
    } finally {
      await fake.close();
    }
  });

  it('gives up after the timeout', async () => {
    const fake = await fakeProvider(() => undefined); // never answers
    try {
      const started = Date.now();
      const error = await caught(getRequestToken({ requestTokenUrl: `${fake.url}/rt`, consumer, signatureMethod: 'HMAC-SHA1', timeoutMs: 200 }));
      expect(error.code).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(5000);
      expectNoSecrets(error, secrets);
    } finally {
      await fake.close();
    }
  });

  it('reports an unreachable provider as a network error', async () => {
    const fake = await fakeProvider(() => undefined);
    const url = fake.url;
    await fake.close();
    const error = await caught(getRequestToken({ requestTokenUrl: `${url}/rt`, consumer, signatureMethod: 'PLAINTEXT' }));
    expect(error.code).toBe('network');
    expectNoSecrets(error, secrets);
  });
});

describe('OAuth 1.0a client and redirects', () => {
  /** Something inside the deployment (127.0.0.2): it records what reaches it and answers with what it holds. */
  async function internalService(): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'Content-Type': 'application/x-www-form-urlencoded' });
      res.end('INTERNAL-ONLY-DATA=1&oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it('does not follow a provider’s 307 to an internal address, and shows nothing of what is there', async () => {
    const internal = await internalService();
    const provider = new OAuth1Provider({ consumers: [consumer], redirectTokenCallsTo: internal.url });
    const { baseUrl } = await provider.start();
    try {
      const requestToken = await caught(getRequestToken({ requestTokenUrl: `${baseUrl}/oauth/request_token`, consumer, callbackUrl, signatureMethod: 'HMAC-SHA1' }));
      expect(requestToken).toMatchObject({ code: 'provider_refused', status: 307, problem: null });
      expect(requestToken.message).toBe('request token: the provider answered with a redirect (HTTP 307), which Plugboard does not follow');
      const accessToken = await caught(
        getAccessToken({ accessTokenUrl: `${baseUrl}/oauth/access_token`, consumer, requestToken: { key: 'rt', secret: 'RT-SECRET-1' }, verifier: 'v', signatureMethod: 'HMAC-SHA1' }),
      );
      expect(accessToken).toMatchObject({ code: 'provider_refused', status: 307 });
      expect(provider.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /oauth/request_token 307', 'POST /oauth/access_token 307']);
      expect(internal.hits).toEqual([]);
      for (const error of [requestToken, accessToken]) expect(inspect(error)).not.toContain('INTERNAL-ONLY-DATA');
    } finally {
      await provider.stop();
      await internal.close();
    }
  });
});
