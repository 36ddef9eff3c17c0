import { createHmac, randomBytes } from 'node:crypto';
import OAuth from 'oauth-1.0a';

/**
 * OAuth 1.0a client (RFC 5849): request signing and the three-legged flow.
 *
 * Signing (parameter normalisation, base string, signing key, HMAC, Authorization header) is done by the
 * `oauth-1.0a` package; this module only feeds it correctly decoded parameters and places the result in the request.
 */

export type OAuth1SignatureMethod = 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT';
/** Where the `oauth_*` protocol parameters travel (RFC 5849 §3.5). */
export type OAuth1ParamType = 'header' | 'query' | 'form';

/** A key and its shared secret: the consumer (client) credentials or a request/access token. */
export interface OAuth1Credentials {
  key: string;
  secret: string;
}

export interface SignRequestOptions {
  method: string;
  url: string;
  consumer: OAuth1Credentials;
  token?: OAuth1Credentials;
  signatureMethod: OAuth1SignatureMethod;
  /** Defaults to `header`, the method RFC 5849 §3.5 recommends. */
  paramType?: OAuth1ParamType;
  /**
   * application/x-www-form-urlencoded body parameters; they are signed (RFC 5849 §3.4.1.3.1). As pairs, a name may
   * repeat and the order is kept in the body sent.
   */
  form?: Record<string, string> | Array<[string, string]>;
  /** Further protocol parameters to sign and send, e.g. `oauth_callback`, `oauth_verifier`. */
  extraOauthParams?: Record<string, string>;
  /** `realm` for the Authorization header (not signed); some providers (NetSuite) require it. */
  realm?: string;
  /** `oauth_version` is optional in RFC 5849; sent as `1.0` unless false. */
  includeVersion?: boolean;
  /** Injectable for tests; a random 128-bit hex nonce otherwise. */
  nonce?: string;
  /** Unix seconds; injectable for tests, the current time otherwise. */
  timestamp?: number | string;
}

export interface SignedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The signature base string (RFC 5849 §3.4.1); it holds no secret and helps when a provider rejects a signature. */
  signatureBaseString: string;
}

export type OAuth1ErrorCode =
  | 'invalid_request' // the caller's input cannot be signed or sent
  | 'provider_refused' // non-2xx answer
  | 'callback_not_confirmed' // request token issued without oauth_callback_confirmed=true
  | 'invalid_response' // 2xx answer without the expected fields
  | 'address_refused' // the caller's fetch refused the address (a private one, or plain http where not allowed)
  | 'timeout'
  | 'network';

/**
 * Raised by this module. Carries the HTTP status and, when the answer names one, the provider's problem code
 * (`oauth_problem`, RFC 5849's Problem Reporting extension): never the answer's text, which could be anything the
 * address answered, nor a secret.
 */
export class OAuth1Error extends Error {
  override readonly name = 'OAuth1Error';
  constructor(
    readonly code: OAuth1ErrorCode,
    message: string,
    readonly status?: number,
    readonly problem: string | null = null,
  ) {
    super(message);
  }
}

/** A fetch-compatible function, e.g. an egress policy's. */
export type OAuth1Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface OAuth1CallOptions {
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** Replaces the global fetch (Plugboard passes its egress policy's). Redirects are never followed either way. */
  fetch?: OAuth1Fetch;
  realm?: string;
  includeVersion?: boolean;
}

export interface RequestTokenOptions extends OAuth1CallOptions {
  requestTokenUrl: string;
  consumer: OAuth1Credentials;
  /** Where the provider sends the user back; `oob` (out of band) when absent. */
  callbackUrl?: string;
  signatureMethod: OAuth1SignatureMethod;
}

export interface RequestToken {
  token: string;
  tokenSecret: string;
  callbackConfirmed: true;
}

export interface AccessTokenOptions extends OAuth1CallOptions {
  accessTokenUrl: string;
  consumer: OAuth1Credentials;
  requestToken: OAuth1Credentials;
  verifier: string;
  signatureMethod: OAuth1SignatureMethod;
}

export interface AccessToken {
  token: string;
  tokenSecret: string;
  /** Every other field of the answer, e.g. `user_id`, `screen_name`. */
  extra: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** What a problem code may look like; anything else in an answer is not repeated. */
const PROBLEM_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
// Protocol parameters this module generates itself; callers may not override them.
const RESERVED = new Set([
  'oauth_consumer_key',
  'oauth_token',
  'oauth_signature_method',
  'oauth_signature',
  'oauth_timestamp',
  'oauth_nonce',
  'oauth_version',
]);

function hashFunction(method: OAuth1SignatureMethod): (base: string, key: string) => string {
  switch (method) {
    case 'HMAC-SHA1':
      return (base, key) => createHmac('sha1', key).update(base).digest('base64');
    case 'HMAC-SHA256':
      return (base, key) => createHmac('sha256', key).update(base).digest('base64');
    case 'PLAINTEXT':
      // RFC 5849 §3.4.4: the signature is the signing key itself (so only ever use it over TLS).
      return (_base, key) => key;
    default:
      throw new OAuth1Error('invalid_request', `Unsupported signature method ${String(method)}`);
  }
}

/**
 * Signs a request and returns it ready to send. URL query parameters and `form` body parameters are part of the
 * signature base string (RFC 5849 §3.4.1.3).
 */
export function signRequest(options: SignRequestOptions): SignedRequest {
  const method = options.method.toUpperCase();
  const paramType = options.paramType ?? 'header';
  const hasBody = options.form !== undefined || paramType === 'form';
  if (hasBody && (method === 'GET' || method === 'HEAD')) {
    throw new OAuth1Error('invalid_request', `A ${method} request cannot carry a form body`);
  }
  if (options.realm !== undefined && /["\\\r\n]/.test(options.realm)) {
    throw new OAuth1Error('invalid_request', 'realm must not contain quotes, backslashes or line breaks');
  }

  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new OAuth1Error('invalid_request', 'url is not an absolute URL');
  }
  url.hash = '';

  const oauth = new OAuth({
    consumer: options.consumer,
    signature_method: options.signatureMethod,
    hash_function: hashFunction(options.signatureMethod),
    realm: options.realm,
  });

  const protocol: Record<string, string> = {
    oauth_consumer_key: options.consumer.key,
    // A CSPRNG nonce rather than the package's Math.random one.
    oauth_nonce: options.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: options.signatureMethod,
    oauth_timestamp: String(options.timestamp ?? oauth.getTimeStamp()),
  };
  if (options.token) protocol['oauth_token'] = options.token.key;
  if (options.includeVersion !== false) protocol['oauth_version'] = '1.0';
  for (const [name, value] of Object.entries(options.extraOauthParams ?? {})) {
    if (!name.startsWith('oauth_') || RESERVED.has(name)) {
      throw new OAuth1Error('invalid_request', `extraOauthParams cannot hold ${name}`);
    }
    protocol[name] = value;
  }

  // The package decodes query strings with decodeURIComponent ('+' stays '+') and merges the query over the body,
  // dropping a name used in both. RFC 5849 §3.4.1.3.1 wants form decoding and every pair, so the parameters are
  // decoded here with URLSearchParams and handed over as one map (repeated names as arrays, which it supports).
  const params = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    if (name in protocol) throw new OAuth1Error('invalid_request', `Parameter ${name} would duplicate a protocol parameter`);
    params.set(name, [...(params.get(name) ?? []), value]);
  };
  url.searchParams.forEach((value, name) => add(name, value));
  const formPairs = Array.isArray(options.form) ? options.form : Object.entries(options.form ?? {});
  for (const [name, value] of formPairs) add(name, value);
  const data: Record<string, string | string[]> = {};
  for (const [name, values] of params) data[name] = values.length === 1 ? values[0] : values;

  const baseUrl = `${url.protocol}//${url.host}${url.pathname}`; // URL lower-cases the host and drops a default port
  // The package's Data type has no room for extra protocol parameters, though it signs whatever it is given.
  const oauthData = protocol as unknown as OAuth.Data;
  const request = { method, url: baseUrl, data };
  // Copies: the package merges its inputs in place.
  const signatureBaseString = oauth.getBaseString({ ...request, data: { ...data } }, { ...oauthData });
  const signature = oauth.getSignature({ ...request, data: { ...data } }, options.token?.secret, { ...oauthData });
  const signed: Record<string, string> = { ...protocol, oauth_signature: signature };

  const encodePairs = (pairs: Array<[string, string]>) =>
    pairs.map(([name, value]) => `${oauth.percentEncode(name)}=${oauth.percentEncode(value)}`).join('&');
  const headers: Record<string, string> = {};
  let body: string | undefined;

  if (paramType === 'header') {
    headers['Authorization'] = oauth.toHeader(signed as unknown as OAuth.Authorization).Authorization;
  } else if (paramType === 'query') {
    const extra = encodePairs(Object.entries(signed));
    url.search = url.search ? `${url.search}&${extra}` : `?${extra}`;
  }
  if (hasBody) {
    const pairs = [...formPairs];
    if (paramType === 'form') pairs.push(...Object.entries(signed));
    body = encodePairs(pairs);
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  return { method, url: url.toString(), headers, body, signatureBaseString };
}

/** Step 1 (RFC 5849 §2.1): obtains temporary credentials; POST signed with the consumer credentials only. */
export async function getRequestToken(options: RequestTokenOptions): Promise<RequestToken> {
  const secrets = [options.consumer.secret];
  const answer = await tokenRequest('request token', options, secrets, {
    method: 'POST',
    url: options.requestTokenUrl,
    consumer: options.consumer,
    signatureMethod: options.signatureMethod,
    extraOauthParams: { oauth_callback: options.callbackUrl ?? 'oob' },
    realm: options.realm,
    includeVersion: options.includeVersion,
  });
  // Without the confirmation the provider may be a pre-1.0a one, open to session fixation (RFC 5849 §2.1).
  if (answer.fields.get('oauth_callback_confirmed') !== 'true') {
    throw new OAuth1Error(
      'callback_not_confirmed',
      'request token: the provider did not confirm the callback (oauth_callback_confirmed is not true)',
      answer.status,
    );
  }
  const { token, tokenSecret } = answer;
  return { token, tokenSecret, callbackConfirmed: true };
}

/** Step 2 (RFC 5849 §2.2): the URL to send the user to. Existing query parameters are kept. */
export function authorizeUrl(authorizeUrl: string, requestToken: string, extraParams?: Record<string, string>): string {
  const url = new URL(authorizeUrl);
  for (const [name, value] of Object.entries(extraParams ?? {})) url.searchParams.set(name, value);
  url.searchParams.set('oauth_token', requestToken);
  return url.toString();
}

/** Step 3 (RFC 5849 §2.3): exchanges the authorised request token and its verifier for token credentials. */
export async function getAccessToken(options: AccessTokenOptions): Promise<AccessToken> {
  const secrets = [options.consumer.secret, options.requestToken.secret];
  const answer = await tokenRequest('access token', options, secrets, {
    method: 'POST',
    url: options.accessTokenUrl,
    consumer: options.consumer,
    token: options.requestToken,
    signatureMethod: options.signatureMethod,
    extraOauthParams: { oauth_verifier: options.verifier },
    realm: options.realm,
    includeVersion: options.includeVersion,
  });
  const extra: Record<string, string> = {};
  answer.fields.forEach((value, name) => {
    if (name !== 'oauth_token' && name !== 'oauth_token_secret') extra[name] = value;
  });
  return { token: answer.token, tokenSecret: answer.tokenSecret, extra };
}

interface TokenAnswer {
  token: string;
  tokenSecret: string;
  fields: URLSearchParams;
  status: number;
}

async function tokenRequest(
  step: string,
  call: OAuth1CallOptions,
  secrets: string[],
  sign: SignRequestOptions,
): Promise<TokenAnswer> {
  const request = signRequest(sign);
  const doFetch: OAuth1Fetch = call.fetch ?? fetch;
  let status: number;
  let text: string;
  try {
    const response = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // A redirect is an answer, not an instruction: following it would POST the signed request (and then show
      // the answer) wherever the provider points, inside the deployment included.
      redirect: 'manual',
      signal: AbortSignal.timeout(call.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    status = response.status;
    if (status >= 300 && status < 400) {
      await response.body?.cancel();
      throw new OAuth1Error('provider_refused', `${step}: the provider answered with a redirect (HTTP ${status}), which Plugboard does not follow`, status);
    }
    text = await response.text();
  } catch (error) {
    if (error instanceof OAuth1Error) throw error;
    const name = (error as Error | undefined)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new OAuth1Error('timeout', `${step}: no answer within ${call.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
    }
    const reason = redact(String((error as Error | undefined)?.message ?? error), secrets);
    const code = (error as { code?: unknown } | undefined)?.code;
    // The egress policy's refusals name the host only.
    if (code === 'EPRIVATE' || code === 'EINSECURE') throw new OAuth1Error('address_refused', `${step}: ${reason}`);
    throw new OAuth1Error('network', `${step}: request failed: ${reason}`);
  }

  const fields = new URLSearchParams(text);
  if (status < 200 || status > 299) {
    const code = problemOf(text, fields);
    // A provider that reflects what it was sent could put a secret there.
    const problem = code !== null && redact(code, secrets) === code ? code : null;
    throw new OAuth1Error('provider_refused', `${step}: the provider answered HTTP ${status}${problem ? ` (${problem})` : ''}`, status, problem);
  }
  const token = fields.get('oauth_token');
  const tokenSecret = fields.get('oauth_token_secret');
  if (!token || tokenSecret === null) {
    throw new OAuth1Error('invalid_response', `${step}: the answer lacks oauth_token or oauth_token_secret`, status);
  }
  return { token, tokenSecret, fields, status };
}

/**
 * The problem code of a refusal: `oauth_problem` of a form-encoded answer (the Problem Reporting extension), or the
 * `oauth_problem`, `problem` or `error` string of a JSON one, when it looks like a code. Null otherwise.
 */
function problemOf(text: string, fields: URLSearchParams): string | null {
  let candidate: unknown = fields.get('oauth_problem');
  if (candidate === null) {
    try {
      const json: unknown = JSON.parse(text);
      if (json && typeof json === 'object') {
        const record = json as Record<string, unknown>;
        candidate = record.oauth_problem ?? record.problem ?? record.error;
      }
    } catch {
      candidate = null;
    }
  }
  return typeof candidate === 'string' && PROBLEM_CODE.test(candidate) ? candidate : null;
}

/** Removes every secret, raw or percent-encoded once or twice (PLAINTEXT signatures are encoded secrets). */
function redact(text: string, secrets: string[]): string {
  let result = text;
  const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const forms = secrets.filter(Boolean).flatMap((s) => [s, encode(s), encode(encode(s))]);
  // Longest first, so a secret that contains another is removed whole.
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) result = result.split(form).join('[redacted]');
  return result;
}
