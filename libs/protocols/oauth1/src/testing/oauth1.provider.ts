import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real, small OAuth 1.0a provider (RFC 5849) on 127.0.0.1 for tests.
 *
 * It verifies signatures with its own code, written from RFC 5849 §3.4 and independent of the client in this
 * library (which relies on the `oauth-1.0a` package), so a test that passes here proves the two agree on the RFC.
 */

export type ProviderSignatureMethod = 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT';
export type ParamPair = [name: string, value: string];

export interface ProviderConsumer {
  key: string;
  secret: string;
}

export interface OAuth1ProviderOptions {
  consumers: ProviderConsumer[];
  /** Accepted signature methods; all three by default. */
  signatureMethods?: ProviderSignatureMethod[];
  /** Largest accepted distance between oauth_timestamp and the clock; 300 s by default. */
  maxClockSkewSeconds?: number;
  /** The clock in epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** Extra fields of the access-token answer. */
  user?: Record<string, string>;
  /** When set, signed token requests are answered `307` to this origin (same path): a provider pointing its clients elsewhere. */
  redirectTokenCallsTo?: string;
}

/** One request as the provider received it, with the outcome. */
export interface RecordedRequest {
  method: string;
  /** Request target as sent (path and query). */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  /** OAuth problem code (oauth_problem vocabulary) when the request was refused. */
  problem?: string;
  reason?: string;
}

/** JSON answer of `/api/echo` when the signature holds. */
export interface EchoResponse {
  ok: true;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  form: Record<string, string | string[]>;
  oauth: { consumer_key: string; token: string };
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 5849 §3.4 signature primitives, exported so tests can check them against published vectors.

/** RFC 5849 §3.6: UTF-8, then every octet outside ALPHA / DIGIT / "-" / "." / "_" / "~" as %XX (upper case). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /^[A-Za-z0-9\-._~]$/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** RFC 5849 §3.4.1.2: scheme and host lower case, default port dropped, no query or fragment. */
export function baseStringUri(url: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)([^?#]*)/.exec(url);
  if (!match) throw new Error('not an absolute URL');
  const scheme = match[1].toLowerCase();
  let host = match[2].toLowerCase();
  const defaultPort = scheme === 'http' ? ':80' : scheme === 'https' ? ':443' : undefined;
  if (defaultPort && host.endsWith(defaultPort)) host = host.slice(0, -defaultPort.length);
  return `${scheme}://${host}${match[3] || '/'}`;
}

/** RFC 5849 §3.4.1: method, base string URI and the normalised parameters (without oauth_signature, realm). */
export function signatureBaseString(method: string, baseUri: string, params: ParamPair[]): string {
  // After encoding every character is ASCII, so string comparison is the byte order §3.4.1.3.2 asks for.
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const normalized = params
    .map(([name, value]): ParamPair => [percentEncode(name), percentEncode(value)])
    .sort(([an, av], [bn, bv]) => compare(an, bn) || compare(av, bv))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(normalized)}`;
}

/** RFC 5849 §3.4.2–3.4.4: the oauth_signature value (not yet percent-encoded for transport). */
export function computeSignature(input: {
  signatureMethod: ProviderSignatureMethod;
  baseString: string;
  consumerSecret: string;
  tokenSecret?: string;
}): string {
  const key = `${percentEncode(input.consumerSecret)}&${percentEncode(input.tokenSecret ?? '')}`;
  switch (input.signatureMethod) {
    case 'HMAC-SHA1':
      return createHmac('sha1', key).update(input.baseString).digest('base64');
    case 'HMAC-SHA256':
      return createHmac('sha256', key).update(input.baseString).digest('base64');
    case 'PLAINTEXT':
      return key;
  }
}

/** RFC 5849 §3.5.1: the decoded parameters of an `Authorization: OAuth …` header, or undefined if malformed. */
export function parseAuthorizationHeader(header: string): ParamPair[] | undefined {
  const scheme = /^OAuth(?:\s+|$)/i.exec(header);
  if (!scheme) return undefined;
  const rest = header.slice(scheme[0].length).trim();
  if (!rest) return [];
  const pairs: ParamPair[] = [];
  for (const part of rest.split(',')) {
    const match = /^\s*([^\s=]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!match) return undefined;
    try {
      pairs.push([decodeURIComponent(match[1]), decodeURIComponent(match[2])]);
    } catch {
      return undefined;
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------------------------

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly problem: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface RequestTokenState {
  consumerKey: string;
  secret: string;
  callback: string;
  state: 'issued' | 'authorized' | 'denied' | 'used';
  verifier?: string;
}

interface AccessTokenState {
  consumerKey: string;
  secret: string;
  extra: Record<string, string>;
}

interface Verified {
  consumer: ProviderConsumer;
  protocol: Map<string, string>;
  query: ParamPair[];
  form: ParamPair[];
  path: string;
}

type TokenKind = 'none' | 'request' | 'access';

const MAX_BODY = 1024 * 1024;
const random = (bytes: number) => randomBytes(bytes).toString('hex');

export class OAuth1Provider {
  private readonly consumers = new Map<string, ProviderConsumer>();
  private readonly methods: Set<ProviderSignatureMethod>;
  private readonly maxSkew: number;
  private readonly now: () => number;
  private readonly user: Record<string, string>;
  private readonly requestTokens = new Map<string, RequestTokenState>();
  private readonly accessTokens = new Map<string, AccessTokenState>();
  /** consumer+timestamp+nonce → timestamp, pruned once the timestamp itself would be refused. */
  private readonly nonces = new Map<string, number>();
  private readonly recorded: RecordedRequest[] = [];
  private server?: Server;
  private url?: string;
  /** See OAuth1ProviderOptions.redirectTokenCallsTo; tests may change it between calls. */
  redirectTokenCallsTo: string | null;
  /** When true, every request-token call is answered with the last request token issued: a provider that reuses them. */
  reuseRequestTokens = false;
  private lastRequestToken: { token: string; secret: string } | null = null;

  constructor(options: OAuth1ProviderOptions) {
    this.redirectTokenCallsTo = options.redirectTokenCallsTo ?? null;
    for (const consumer of options.consumers) this.addConsumer(consumer);
    this.methods = new Set(options.signatureMethods ?? ['HMAC-SHA1', 'HMAC-SHA256', 'PLAINTEXT']);
    this.maxSkew = options.maxClockSkewSeconds ?? 300;
    this.now = options.now ?? Date.now;
    this.user = options.user ?? { user_id: '1001', screen_name: 'plugboard_tester' };
  }

  addConsumer(consumer: ProviderConsumer): void {
    this.consumers.set(consumer.key, { ...consumer });
  }

  /** Issues token credentials directly, for tests that do not need the three-legged flow. */
  issueAccessToken(consumerKey: string, extra: Record<string, string> = this.user): { key: string; secret: string } {
    if (!this.consumers.has(consumerKey)) throw new Error(`unknown consumer ${consumerKey}`);
    const key = `at-${random(12)}`;
    const secret = random(20);
    this.accessTokens.set(key, { consumerKey, secret, extra: { ...extra } });
    return { key, secret };
  }

  /** Every request received so far, oldest first. */
  get requests(): readonly RecordedRequest[] {
    return [...this.recorded];
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  get baseUrl(): string {
    if (!this.url) throw new Error('OAuth1Provider is not started');
    return this.url;
  }

  async start(): Promise<{ baseUrl: string }> {
    if (this.server) throw new Error('OAuth1Provider is already started');
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return { baseUrl: this.url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.url = undefined;
    // Clients keep connections alive; close them, or close() waits for them.
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  // -------------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      url: target,
      path: target.split('?')[0],
      headers: { ...req.headers },
      body: '',
      status: 0,
    };
    this.recorded.push(record);
    let reply: Reply;
    try {
      record.body = await readBody(req);
      reply = this.route(req, record.body);
    } catch (error) {
      const problem = error instanceof Problem ? error : new Problem(500, 'internal_error', 'unexpected provider error');
      record.problem = problem.problem;
      record.reason = problem.reason;
      reply = json(problem.status, { ok: false, problem: problem.problem, reason: problem.reason });
    }
    record.status = reply.status;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  private route(req: IncomingMessage, body: string): Reply {
    const path = (req.url ?? '/').split('?')[0];
    const method = (req.method ?? 'GET').toUpperCase();
    switch (path) {
      case '/oauth/request_token':
        if (method !== 'POST') throw new Problem(405, 'method_not_allowed', 'use POST');
        return this.redirected(path) ?? this.requestToken(this.verify(req, body, 'none'));
      case '/oauth/authorize':
        return this.authorize(req);
      case '/oauth/access_token':
        if (method !== 'POST') throw new Problem(405, 'method_not_allowed', 'use POST');
        return this.redirected(path) ?? this.accessToken(this.verify(req, body, 'request'));
      case '/api/echo':
        return this.echo(method, this.verify(req, body, 'access'));
      default:
        throw new Problem(404, 'not_found', `no route ${path}`);
    }
  }

  private redirected(path: string): Reply | null {
    return this.redirectTokenCallsTo ? { status: 307, headers: { location: new URL(path, this.redirectTokenCallsTo).toString() }, body: '' } : null;
  }

  private requestToken(verified: Verified): Reply {
    const callback = verified.protocol.get('oauth_callback');
    if (callback === undefined) throw new Problem(400, 'parameter_absent', 'oauth_callback is required');
    if (callback !== 'oob' && !/^https?:\/\//i.test(callback)) {
      throw new Problem(400, 'parameter_rejected', 'oauth_callback must be an absolute http(s) URL or oob');
    }
    const reused = this.reuseRequestTokens ? this.lastRequestToken : null;
    const token = reused?.token ?? `rt-${random(12)}`;
    const secret = reused?.secret ?? random(20);
    this.lastRequestToken = { token, secret };
    this.requestTokens.set(token, { consumerKey: verified.consumer.key, secret, callback, state: 'issued' });
    return form(200, { oauth_token: token, oauth_token_secret: secret, oauth_callback_confirmed: 'true' });
  }

  /** Stands in for the user's consent page: approves unless `approve=0`. */
  private authorize(req: IncomingMessage): Reply {
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const token = query.get('oauth_token') ?? '';
    const state = this.requestTokens.get(token);
    if (!state || state.state !== 'issued') throw new Problem(400, 'token_rejected', 'unknown or already handled request token');
    if (query.get('approve') === '0') {
      state.state = 'denied';
      return this.backToClient(state.callback, { denied: token });
    }
    state.state = 'authorized';
    state.verifier = random(10);
    return this.backToClient(state.callback, { oauth_token: token, oauth_verifier: state.verifier });
  }

  private backToClient(callback: string, params: Record<string, string>): Reply {
    if (callback === 'oob') return json(200, params);
    const location = new URL(callback);
    for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value);
    return { status: 302, headers: { Location: location.toString() } };
  }

  private accessToken(verified: Verified): Reply {
    const token = verified.protocol.get('oauth_token') ?? '';
    const state = this.requestTokens.get(token);
    if (!state) throw new Problem(401, 'token_rejected', 'unknown request token');
    if (state.state === 'used') throw new Problem(401, 'token_used', 'request token already exchanged');
    if (state.state === 'denied') throw new Problem(401, 'token_rejected', 'authorization was denied');
    if (state.state !== 'authorized') throw new Problem(401, 'permission_unknown', 'request token not authorized yet');
    // Spent on the first signed attempt, so a verifier cannot be guessed nor replayed.
    state.state = 'used';
    const verifier = verified.protocol.get('oauth_verifier');
    if (verifier === undefined) throw new Problem(400, 'parameter_absent', 'oauth_verifier is required');
    if (!state.verifier || !safeEqual(verifier, state.verifier)) throw new Problem(401, 'verifier_invalid', 'wrong oauth_verifier');
    const access = this.issueAccessToken(state.consumerKey);
    return form(200, { oauth_token: access.key, oauth_token_secret: access.secret, ...this.user });
  }

  private echo(method: string, verified: Verified): Reply {
    const withoutProtocol = (pairs: ParamPair[]) => toRecord(pairs.filter(([name]) => !name.startsWith('oauth_')));
    const response: EchoResponse = {
      ok: true,
      method,
      path: verified.path,
      query: withoutProtocol(verified.query),
      form: withoutProtocol(verified.form),
      oauth: { consumer_key: verified.consumer.key, token: verified.protocol.get('oauth_token') ?? '' },
    };
    return json(200, response);
  }

  /** RFC 5849 §3.2: collects the protocol parameters from header, query or body and checks the signature. */
  private verify(req: IncomingMessage, body: string, kind: TokenKind): Verified {
    const target = req.url ?? '/';
    const cut = target.indexOf('?');
    const path = cut < 0 ? target : target.slice(0, cut);
    const query = [...new URLSearchParams(cut < 0 ? '' : target.slice(cut + 1))];
    // §3.4.1.3.1: the body counts only when it is single-part form-urlencoded.
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const formPairs = contentType === 'application/x-www-form-urlencoded' ? [...new URLSearchParams(body)] : [];

    let header: ParamPair[] = [];
    const authorization = req.headers.authorization;
    if (authorization && /^OAuth\b/i.test(authorization)) {
      const parsed = parseAuthorizationHeader(authorization);
      if (!parsed) throw new Problem(400, 'parameter_rejected', 'malformed Authorization header');
      // realm is not a signed parameter (§3.4.1.3.1).
      header = parsed.filter(([name]) => name !== 'realm');
    }

    const protocol = new Map<string, string>();
    for (const [name, value] of [...header, ...query, ...formPairs]) {
      if (!name.startsWith('oauth_')) continue;
      if (protocol.has(name)) throw new Problem(400, 'parameter_rejected', `duplicated protocol parameter ${name}`);
      protocol.set(name, value);
    }
    if (protocol.size === 0) throw new Problem(401, 'parameter_absent', 'no OAuth credentials');

    const version = protocol.get('oauth_version');
    if (version !== undefined && version !== '1.0') throw new Problem(400, 'version_rejected', 'oauth_version must be 1.0');
    const method = protocol.get('oauth_signature_method') as ProviderSignatureMethod | undefined;
    const required = ['oauth_consumer_key', 'oauth_signature_method', 'oauth_signature'];
    // §3.1: timestamp and nonce may be omitted with PLAINTEXT only.
    if (method !== 'PLAINTEXT') required.push('oauth_timestamp', 'oauth_nonce');
    if (kind !== 'none') required.push('oauth_token');
    const missing = required.filter((name) => !protocol.has(name));
    if (missing.length) throw new Problem(400, 'parameter_absent', `missing ${missing.join(', ')}`);
    if (!method || !this.methods.has(method)) throw new Problem(400, 'signature_method_rejected', 'unsupported oauth_signature_method');

    const consumerKey = protocol.get('oauth_consumer_key') as string;
    const consumer = this.consumers.get(consumerKey);
    if (!consumer) throw new Problem(401, 'consumer_key_unknown', 'unknown consumer key');

    let tokenSecret = '';
    if (kind === 'none') {
      if (protocol.has('oauth_token')) throw new Problem(400, 'parameter_rejected', 'no oauth_token expected here');
    } else {
      const token = protocol.get('oauth_token') as string;
      const state = kind === 'request' ? this.requestTokens.get(token) : this.accessTokens.get(token);
      if (!state || state.consumerKey !== consumer.key) throw new Problem(401, 'token_rejected', `unknown ${kind} token`);
      tokenSecret = state.secret;
    }

    const timestamp = protocol.get('oauth_timestamp');
    if (timestamp !== undefined) {
      if (!/^\d{1,12}$/.test(timestamp)) throw new Problem(400, 'parameter_rejected', 'oauth_timestamp must be a number of seconds');
      if (Math.abs(this.now() / 1000 - Number(timestamp)) > this.maxSkew) {
        throw new Problem(401, 'timestamp_refused', `oauth_timestamp is more than ${this.maxSkew} s off`);
      }
    }

    const host = (req.headers.host ?? '').toLowerCase();
    const signed = [...header, ...query, ...formPairs].filter(([name]) => name !== 'oauth_signature');
    const baseString = signatureBaseString(req.method ?? 'GET', baseStringUri(`http://${host}${path}`), signed);
    const expected = computeSignature({ signatureMethod: method, baseString, consumerSecret: consumer.secret, tokenSecret });
    if (!safeEqual(protocol.get('oauth_signature') as string, expected)) {
      throw new Problem(401, 'signature_invalid', 'signature does not match');
    }

    // Only a valid request may spend a nonce, or anyone could burn nonces of others.
    const nonce = protocol.get('oauth_nonce');
    if (nonce !== undefined && timestamp !== undefined) {
      const key = JSON.stringify([consumer.key, timestamp, nonce]);
      if (this.nonces.has(key)) throw new Problem(401, 'nonce_used', 'oauth_nonce already used with this timestamp');
      this.pruneNonces();
      this.nonces.set(key, Number(timestamp));
    }
    return { consumer, protocol, query, form: formPairs, path };
  }

  private pruneNonces(): void {
    const oldest = this.now() / 1000 - this.maxSkew;
    for (const [key, timestamp] of this.nonces) if (timestamp < oldest) this.nonces.delete(key);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function toRecord(pairs: ParamPair[]): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const previous = record[name];
    record[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return record;
}

function json(status: number, value: unknown): Reply {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}

function form(status: number, fields: Record<string, string>): Reply {
  return { status, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Problem(413, 'body_too_large', 'request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
