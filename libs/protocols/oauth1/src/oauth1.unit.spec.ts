import { authorizeUrl, OAuth1Error, signRequest, type OAuth1ParamType, type OAuth1SignatureMethod, type SignedRequest } from './oauth1.client';
import {
  baseStringUri,
  computeSignature,
  parseAuthorizationHeader,
  percentEncode,
  signatureBaseString,
  type ParamPair,
} from './testing';

// RFC 5849 §1.2 (printer.example.com prints Jane's photos from photos.example.net).
const rfcConsumer = { key: 'dpf43f3p2l4k3l03', secret: 'kd94hf93k423kf44' };
interface Vector {
  name: string;
  method: string;
  url: string;
  token?: { key: string; secret: string };
  extraOauthParams?: Record<string, string>;
  timestamp: string;
  nonce: string;
  signature: string;
}
const rfcVectors: Vector[] = [
  {
    name: 'temporary credentials (POST /initiate)',
    method: 'POST',
    url: 'https://photos.example.net/initiate',
    token: undefined,
    extraOauthParams: { oauth_callback: 'http://printer.example.com/ready' },
    timestamp: '137131200',
    nonce: 'wIjqoS',
    signature: '74KNZJeDHnMBp0EMJ9ZHt/XKycU=',
  },
  {
    name: 'token credentials (POST /token)',
    method: 'POST',
    url: 'https://photos.example.net/token',
    token: { key: 'hh5s93j4hdidpola', secret: 'hdhd0244k9j7ao03' },
    extraOauthParams: { oauth_verifier: 'hfdp7dh39dks9884' },
    timestamp: '137131201',
    nonce: 'walatlh',
    signature: 'gKgrFCywp7rO0OXSjdot/IHF7IU=',
  },
  {
    name: 'protected resource (GET /photos)',
    method: 'GET',
    url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
    token: { key: 'nnch734d00sl2jdk', secret: 'pfkkdhi9sl3r4s00' },
    extraOauthParams: undefined,
    timestamp: '137131202',
    nonce: 'chapoH',
    signature: 'MdpQcU8iPSUjWoN/UDMsK2sui9I=',
  },
];

/** Checks a signed request the way the provider does: its own parsing and RFC 5849 code, nothing from the client. */
function verifyAsProvider(request: SignedRequest, consumerSecret: string, tokenSecret?: string) {
  const [target, rawQuery = ''] = request.url.split('?');
  const header = request.headers['Authorization'] ? (parseAuthorizationHeader(request.headers['Authorization']) ?? []) : [];
  const params: ParamPair[] = [
    ...header.filter(([name]) => name !== 'realm'),
    ...new URLSearchParams(rawQuery),
    ...(request.body !== undefined ? new URLSearchParams(request.body) : []),
  ];
  const value = (name: string) => params.find(([n]) => n === name)?.[1];
  const baseString = signatureBaseString(
    request.method,
    baseStringUri(target),
    params.filter(([name]) => name !== 'oauth_signature'),
  );
  const expected = computeSignature({
    signatureMethod: value('oauth_signature_method') as OAuth1SignatureMethod,
    baseString,
    consumerSecret,
    tokenSecret,
  });
  return { baseString, expected, received: value('oauth_signature') };
}

describe('OAuth 1.0a signing', () => {
  describe.each(rfcVectors)('RFC 5849 §1.2: $name', (vector) => {
    const sign = () =>
      signRequest({
        method: vector.method,
        url: vector.url,
        consumer: rfcConsumer,
        token: vector.token,
        signatureMethod: 'HMAC-SHA1',
        extraOauthParams: vector.extraOauthParams,
        realm: 'Photos',
        includeVersion: false, // the RFC examples carry no oauth_version
        timestamp: vector.timestamp,
        nonce: vector.nonce,
      });

    it('the client produces the published signature', () => {
      const signed = sign();
      expect(signed.headers['Authorization']).toMatch(/^OAuth realm="Photos", /);
      expect(signed.headers['Authorization']).toContain(`oauth_signature="${percentEncode(vector.signature)}"`);
      expect(signed.headers['Authorization']).not.toContain('oauth_version');
      expect(signed.url).toBe(vector.url);
    });

    it("the provider's verifier computes the same signature (shared vector)", () => {
      const signed = sign();
      const check = verifyAsProvider(signed, rfcConsumer.secret, vector.token?.secret);
      expect(check.expected).toBe(vector.signature);
      expect(check.received).toBe(vector.signature);
      expect(check.baseString).toBe(signed.signatureBaseString);
    });
  });

  it('the RFC 5849 §1.2 resource signature from the provider primitives alone', () => {
    const baseString = signatureBaseString('GET', baseStringUri('http://photos.example.net/photos'), [
      ['file', 'vacation.jpg'],
      ['size', 'original'],
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
    ]);
    expect(
      computeSignature({ signatureMethod: 'HMAC-SHA1', baseString, consumerSecret: 'kd94hf93k423kf44', tokenSecret: 'pfkkdhi9sl3r4s00' }),
    ).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it('RFC 5849 §3.4.1.1: query and form parameters, repeated names and "+" in the body are all in the base string', () => {
    const expected =
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7';
    const signed = signRequest({
      method: 'POST',
      url: 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b',
      consumer: { key: '9djdj82h48djs9d2', secret: 'j49sk3j29djd' },
      token: { key: 'kkk9d7dh3k39sjv7', secret: 'dh893hdasih9' },
      signatureMethod: 'HMAC-SHA1',
      form: { c2: '', a3: '2 q' },
      includeVersion: false,
      timestamp: 137131201,
      nonce: '7d8f3e4a',
    });
    expect(signed.signatureBaseString).toBe(expected);
    // The provider reads the RFC's own body bytes ("c2&a3=2+q") and must land on the same string.
    const provider = signatureBaseString('POST', baseStringUri('http://EXAMPLE.com:80/request'), [
      ...new URLSearchParams('b5=%3D%253D&a3=a&c%40=&a2=r%20b'),
      ...new URLSearchParams('c2&a3=2+q'),
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
    ]);
    expect(provider).toBe(expected);
    const check = verifyAsProvider(signed, 'j49sk3j29djd', 'dh893hdasih9');
    expect(check.received).toBe(check.expected);
  });

  const methods: OAuth1SignatureMethod[] = ['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT'];
  const placements: OAuth1ParamType[] = ['header', 'query', 'form'];
  describe.each(methods)('%s', (signatureMethod) => {
    it.each(placements)('paramType %s: the provider verifies what the client signed, awkward characters included', (paramType) => {
      const consumer = { key: 'ck', secret: "c&s!*'()=+ ü" };
      const token = { key: 'tk', secret: 'ts/ä%20~' };
      const signed = signRequest({
        method: 'post',
        url: 'HTTPS://API.Example.COM:443/v1/items/x%20y?q=a+b&q=%2B&empty=&n=%E2%9C%93',
        consumer,
        token,
        signatureMethod,
        paramType,
        form: { note: "hello wörld & friends = 100% *!'()", emoji: '🔌' },
        extraOauthParams: { oauth_callback: 'https://app.example/cb?x=1&y=2' },
      });
      const check = verifyAsProvider(signed, consumer.secret, token.secret);
      expect(check.received).toBe(check.expected);
      expect(check.baseString).toBe(signed.signatureBaseString);
      expect(signed.signatureBaseString.startsWith('POST&https%3A%2F%2Fapi.example.com%2Fv1%2Fitems%2Fx%2520y&')).toBe(true);
      expect(signed.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
      // Protocol parameters travel in exactly one place.
      expect(signed.headers['Authorization'] !== undefined).toBe(paramType === 'header');
      expect(new URL(signed.url).searchParams.has('oauth_signature')).toBe(paramType === 'query');
      expect(new URLSearchParams(signed.body).has('oauth_signature')).toBe(paramType === 'form');
      expect(new URLSearchParams(signed.body).get('note')).toBe("hello wörld & friends = 100% *!'()");
    });
  });

  it('PLAINTEXT signs with the encoded secrets themselves', () => {
    const signed = signRequest({
      method: 'GET',
      url: 'https://api.example.com/x',
      consumer: { key: 'k', secret: 'a b' },
      token: { key: 't', secret: 'c&d' },
      signatureMethod: 'PLAINTEXT',
      paramType: 'query',
    });
    expect(new URL(signed.url).searchParams.get('oauth_signature')).toBe('a%20b&c%26d');
  });

  it('sends oauth_version 1.0, a fresh 128-bit nonce and the current time by default', () => {
    const sign = () =>
      signRequest({ method: 'GET', url: 'https://api.example.com/x', consumer: { key: 'k', secret: 's' }, signatureMethod: 'HMAC-SHA1', paramType: 'query' });
    const first = new URL(sign().url).searchParams;
    const second = new URL(sign().url).searchParams;
    expect(first.get('oauth_version')).toBe('1.0');
    expect(first.get('oauth_nonce')).toMatch(/^[0-9a-f]{32}$/);
    expect(first.get('oauth_nonce')).not.toBe(second.get('oauth_nonce'));
    expect(Math.abs(Number(first.get('oauth_timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    expect(first.has('oauth_token')).toBe(false);
  });

  it('refuses input it cannot sign correctly', () => {
    const base = { url: 'https://api.example.com/x', consumer: { key: 'k', secret: 's' }, signatureMethod: 'HMAC-SHA1' as const };
    const cases = [
      () => signRequest({ ...base, method: 'GET', form: { a: '1' } }),
      () => signRequest({ ...base, method: 'GET', paramType: 'form' }),
      () => signRequest({ ...base, method: 'GET', extraOauthParams: { oauth_nonce: 'mine' } }),
      () => signRequest({ ...base, method: 'GET', extraOauthParams: { callback: 'x' } }),
      () => signRequest({ ...base, method: 'GET', url: 'https://api.example.com/x?oauth_callback=a', extraOauthParams: { oauth_callback: 'b' } }),
      () => signRequest({ ...base, method: 'GET', realm: 'a"b' }),
      () => signRequest({ ...base, method: 'GET', url: '/relative' }),
    ];
    for (const attempt of cases) {
      expect(attempt).toThrow(OAuth1Error);
      expect(attempt).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });

  it('authorizeUrl adds oauth_token and extra parameters and keeps the existing query', () => {
    const url = new URL(authorizeUrl('https://provider.example/oauth/authorize?lang=de', 'rt 1', { perms: 'write' }));
    expect(url.origin + url.pathname).toBe('https://provider.example/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({ lang: 'de', perms: 'write', oauth_token: 'rt 1' });
  });
});
