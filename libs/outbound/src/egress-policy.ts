import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction, type Socket } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { hostAllowed, isPrivateAddress } from './address-policy';

/** A DNS resolver in `dns.lookup`'s shape, always asked for every address. Tests give one that answers what they need. */
export type Resolver = (hostname: string, options: { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** A fetch for the protocol libraries: a URL and an init, no `Request` objects. */
export type EgressFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** How long each kind of outbound call may take. */
export interface EgressTimeouts {
  /** POST /v1/invoke and /v1/proxy: silence from the API longer than this ends the call (PLUGBOARD_INVOKE_TIMEOUT_MS). */
  invokeMs: number;
  /** One webhook delivery attempt (PLUGBOARD_WEBHOOK_TIMEOUT_MS). */
  webhookMs: number;
  /** OAuth 2 token, refresh and revocation calls; OAuth 1.0a request-token and access-token calls. */
  oauthMs: number;
  /** A service's verification call. */
  verificationMs: number;
  /** The operators' identity provider (token and userinfo calls of the dashboard sign-in). */
  signInMs: number;
}

export interface EgressSettings {
  /** Hosts, addresses or CIDRs exempt from the private-address block and allowed over plain http (PLUGBOARD_INVOKE_ALLOW_HOSTS). */
  allowHosts: readonly string[];
  timeouts: EgressTimeouts;
  /** `dns.lookup` unless given. */
  resolve?: Resolver;
}

/** The part of the platform configuration the policy is built from (PlatformConfig has these fields). */
export interface EgressConfig {
  PLUGBOARD_INVOKE_ALLOW_HOSTS: readonly string[];
  PLUGBOARD_INVOKE_TIMEOUT_MS: number;
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: number;
}

/** Fixed by the policy rather than configured: long enough for a slow provider, short enough for a person waiting. */
export const OAUTH_TIMEOUT_MS = 10_000;
export const VERIFICATION_TIMEOUT_MS = 10_000;
export const SIGN_IN_TIMEOUT_MS = 10_000;

/**
 * Why the policy refused a call, with the errno-style code the protocol libraries and the HTTP callers recognise:
 * `EPRIVATE` (a private, loopback or link-local address) or `EINSECURE` (not http(s), or plain http to a host the
 * operator did not allow). The message names the host, never a path, query or body.
 */
export class EgressRefused extends Error {
  override readonly name = 'EgressRefused';
  constructor(
    readonly code: 'EPRIVATE' | 'EINSECURE',
    message: string,
  ) {
    super(message);
  }
}

/** A refusal of the policy as the domain error callers answer with (`private_address` or `host_not_allowed`). */
export function egressDomainError(error: { code?: unknown; message: string }): DomainError | null {
  if (error.code === 'EPRIVATE') return new DomainError(ErrorCodes.privateAddress, error.message);
  if (error.code === 'EINSECURE') return new DomainError(ErrorCodes.hostNotAllowed, error.message);
  return null;
}

const built = new WeakMap<object, EgressPolicy>();

/**
 * The one egress policy of a process: every server-side request (invoke, proxy, verification, webhooks, OAuth 2
 * token/refresh/revocation, OAuth 1.0a request-token and access-token, operator sign-in) goes through it.
 *
 * - Address rules: http(s) only; plain http only to hosts the operator allowed; no private, loopback or link-local
 *   address unless allowed. Names are checked on the address the socket connects to (the lookup runs inside the
 *   connection), so a name that resolves to a public address when first asked and to a private one when connected
 *   (DNS rebinding) is still refused. Addresses written out are checked as the connection starts, too.
 * - Redirects: never followed. A 3xx is handed back to the caller as the answer it is; following one would send a
 *   credential or a signed POST wherever the provider points, inside the deployment included.
 * - Timeouts: one table, `timeouts`, that the callers read.
 */
export class EgressPolicy {
  readonly redirects = 'never' as const;
  readonly allowHosts: readonly string[];
  readonly timeouts: Readonly<EgressTimeouts>;
  /** The connect-time lookup of every agent and pool of the policy. */
  private readonly lookup: LookupFunction;
  private readonly allowedNames: Set<string>;
  private readonly allowedNetworks = new BlockList();
  private readonly dispatcher: Agent;
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(settings: EgressSettings) {
    this.allowHosts = [...settings.allowHosts];
    this.timeouts = { ...settings.timeouts };
    this.allowedNames = new Set(this.allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
    for (const entry of this.allowHosts) {
      const [network, bits] = entry.split('/');
      const family = isIP(network);
      if (bits !== undefined && family && /^\d+$/.test(bits)) this.allowedNetworks.addSubnet(network, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    }
    this.lookup = this.connectLookup(settings.resolve ?? ((hostname, options, callback) => dnsLookup(hostname, options, callback)));
    this.dispatcher = this.poolFor();
    this.agents = { 'http:': this.guardedAgent(http.Agent), 'https:': this.guardedAgent(https.Agent) as https.Agent };
  }

  /** The policy of this configuration, built on first use and shared by every module of the process. */
  static fromConfig(config: EgressConfig): EgressPolicy {
    let policy = built.get(config);
    if (!policy) {
      policy = new EgressPolicy({
        allowHosts: config.PLUGBOARD_INVOKE_ALLOW_HOSTS,
        timeouts: { invokeMs: config.PLUGBOARD_INVOKE_TIMEOUT_MS, webhookMs: config.PLUGBOARD_WEBHOOK_TIMEOUT_MS, oauthMs: OAUTH_TIMEOUT_MS, verificationMs: VERIFICATION_TIMEOUT_MS, signInMs: SIGN_IN_TIMEOUT_MS },
      });
      built.set(config, policy);
    }
    return policy;
  }

  /** Whether the operator exempted this host name or address (PLUGBOARD_INVOKE_ALLOW_HOSTS: names, addresses, CIDRs). */
  allows(host: string): boolean {
    const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
    if (this.allowedNames.has(bare)) return true;
    const family = isIP(bare);
    return family !== 0 && this.allowedNetworks.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * Whether a protocol library may speak plain http for these URLs (its "insecure localhost" switch): some URL is
   * http, and every http one is on a host the operator allows. Absent URLs are ignored.
   */
  allowsPlainHttp(...urls: (string | null | undefined)[]): boolean {
    const plain = urls.filter((url): url is string => typeof url === 'string' && url.startsWith('http:'));
    return plain.length > 0 && plain.every((url) => URL.canParse(url) && this.allows(new URL(url).hostname));
  }

  /** Why a call to `url` is refused, or null. Names are checked again, on their address, when the socket connects. */
  refusal(url: URL): EgressRefused | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return new EgressRefused('EINSECURE', 'Only http(s) URLs can be called.');
    if (url.protocol === 'http:' && !this.allows(url.hostname)) return new EgressRefused('EINSECURE', `${url.host} may only be called over https (plain http only for hosts the operator allows in PLUGBOARD_INVOKE_ALLOW_HOSTS).`);
    return this.addressRefusal(url.hostname);
  }

  /** Throws `host_not_allowed` or `private_address` (DomainError) when the policy refuses `url`. */
  check(url: URL): void {
    const refused = this.refusal(url);
    if (refused) throw egressDomainError(refused);
  }

  /**
   * Where a credential may go: one of the service's hosts (`allowedHosts`), and the policy's rules. Throws
   * `host_not_allowed` or `private_address`.
   */
  checkServiceDestination(url: URL, allowedHosts: readonly string[]): void {
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      if (!hostAllowed(url.host, allowedHosts) && !hostAllowed(url.hostname, allowedHosts)) {
        throw new DomainError(ErrorCodes.hostNotAllowed, `${url.host} is not one of the hosts this service's credentials may be sent to (${allowedHosts.join(', ') || 'none'}).`);
      }
    }
    this.check(url);
  }

  /**
   * `fetch` under the policy: the URL's rules first, the address when the socket connects, and no redirect followed
   * (whatever `init.redirect` says; a 3xx comes back as the answer). A refusal rejects with an EgressRefused, not
   * wrapped in fetch's `TypeError('fetch failed')`, so the callers can tell it from a network failure.
   */
  readonly fetch: EgressFetch = async (input, init) => {
    const url = new URL(String(input));
    const refused = this.refusal(url);
    if (refused) throw refused;
    try {
      const response = await undiciFetch(url, { ...(init as UndiciRequestInit), redirect: 'manual', dispatcher: this.dispatcher });
      return response as unknown as Response;
    } catch (error) {
      throw refusalIn(error) ?? error;
    }
  };

  /**
   * A node:http(s) request under the policy: the URL's rules first, then an agent whose connections check the
   * address they connect to. Node's http client never follows redirects. Throws an EgressRefused before any socket.
   */
  request(url: URL, options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest {
    const refused = this.refusal(url);
    if (refused) throw refused;
    const transport = url.protocol === 'https:' ? https : http;
    return transport.request(url, { ...options, agent: this.agentFor(url.protocol) }, callback);
  }

  /**
   * An agent whose connections check their address, for libraries that make their own node:http(s) requests. With
   * `timeoutMs`, a new agent whose sockets are destroyed after that long without traffic, for libraries that set no
   * deadline of their own.
   */
  agentFor(protocol: string, timeoutMs?: number): http.Agent {
    const https_ = protocol === 'https:';
    if (timeoutMs !== undefined) return this.guardedAgent(https_ ? https.Agent : http.Agent, timeoutMs);
    return https_ ? this.agents['https:'] : this.agents['http:'];
  }

  /**
   * A new undici pool of keep-alive connections that check their address as they connect: `fetch`'s own, and one for
   * each caller with a pool of its own (the call pipeline, InvokeSettings), whose `timeoutMs` bounds the connect, the
   * headers and each silence in the body.
   */
  poolFor(timeoutMs?: number): Agent {
    const connector = buildConnector({ lookup: this.lookup, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
    return new Agent({
      connect: (options, callback) => {
        const refused = this.addressRefusal(options.hostname);
        if (refused) return callback(refused, null);
        connector(options, callback);
      },
      ...(timeoutMs === undefined ? {} : { headersTimeout: timeoutMs, bodyTimeout: timeoutMs }),
    });
  }

  /** Closes the kept-alive connections of `fetch`. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private addressRefusal(hostname: string): EgressRefused | null {
    const literal = hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isPrivateAddress(literal) && !this.allows(literal)) return new EgressRefused('EPRIVATE', `${literal} is a private or local address; Plugboard does not call it.`);
    return null;
  }

  private connectLookup(resolve: Resolver): LookupFunction {
    return ((hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
      resolve(hostname, { all: true }, (error, addresses) => {
        if (error) return callback(error, []);
        const named = this.allows(hostname);
        const usable = addresses.filter((a) => (options.family === undefined || options.family === 0 || a.family === options.family) && (named || this.allows(a.address) || !isPrivateAddress(a.address)));
        if (usable.length === 0) return callback(new EgressRefused('EPRIVATE', `${hostname} resolves to a private or local address; Plugboard does not call it.`), []);
        if (options.all) return callback(null, usable);
        return callback(null, usable[0].address, usable[0].family);
      });
    }) as LookupFunction;
  }

  private guardedAgent(Base: typeof http.Agent | typeof https.Agent, timeoutMs?: number): http.Agent {
    const agent: http.Agent = new Base({ keepAlive: false });
    const connect = agent.createConnection.bind(agent);
    // Node's agents open every socket through this method, so the check cannot be bypassed by a request's options.
    agent.createConnection = (options, callback) => {
      const refused = this.addressRefusal(String(options.host ?? options.hostname ?? ''));
      if (refused) {
        process.nextTick(() => callback?.(refused, undefined as unknown as Socket));
        return undefined;
      }
      const socket = connect({ ...options, lookup: this.lookup }, callback) as Socket | null | undefined;
      if (socket && timeoutMs !== undefined) socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      return socket;
    };
    return agent;
  }
}

/** The policy's refusal inside fetch's `TypeError('fetch failed')`, if that is what failed it. */
function refusalIn(error: unknown): EgressRefused | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === 'EPRIVATE' || code === 'EINSECURE') return current instanceof EgressRefused ? current : new EgressRefused(code, String((current as Error).message));
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
