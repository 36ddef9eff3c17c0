import type { z } from 'zod';
import {
  DomainError,
  Endpoints,
  type ApiKeyView,
  type AuthorizeResult,
  type ConnectLinkAuthorizeResult,
  type ConnectLinkView,
  type CreatedConnectLink,
  type SessionView,
  type ConnectionSnippets,
  type ConnectionView,
  type CreatedApiKey,
  type Endpoint,
  type HealthView,
  type InvokeResponse,
  type ListConnectionsRequest,
  type ListServicesRequest,
  type LoggedEventView,
  type Page,
  type ServiceView,
  type WebhookDeliveryView,
  type WebhookView,
  type WebhookWithSecret,
} from '@plugboard/contracts';
import { PlugboardError } from './errors';
import { paginate } from './paginate';

type Routes = typeof Endpoints;
/** A route of the gateway, by its name in the contracts' `Endpoints`. */
export type EndpointName = keyof Routes;

/** What each `returns` of an endpoint stands for; a name the contracts add and this map lacks does not compile. */
interface ReturnTypes {
  Service: ServiceView;
  ServicePage: Page<ServiceView>;
  Connection: ConnectionView;
  ConnectionPage: Page<ConnectionView>;
  ConnectionSnippets: ConnectionSnippets;
  AuthorizeResult: AuthorizeResult;
  InvokeResponse: InvokeResponse;
  Health: HealthView;
  Webhook: WebhookView;
  WebhookWithSecret: WebhookWithSecret;
  WebhookDeliveryPage: Page<WebhookDeliveryView>;
  ApiKey: ApiKeyView;
  ApiKeyList: { items: ApiKeyView[] };
  CreatedApiKey: CreatedApiKey;
  EventPage: Page<LoggedEventView>;
  Session: SessionView;
  CreatedConnectLink: CreatedConnectLink;
  ConnectLink: ConnectLinkView;
  ConnectLinkAuthorizeResult: ConnectLinkAuthorizeResult;
}
type Returns = { [K in NonNullable<Endpoint['returns']>]: ReturnTypes[K] };

/** The success body of an endpoint (void for 204s). */
export type Reply<E extends EndpointName> = Routes[E] extends { returns: infer R extends keyof Returns } ? Returns[R] : void;
/** The request body of an endpoint, as its zod schema accepts it (defaults optional). */
export type Body<E extends EndpointName> = Routes[E] extends { body: infer S extends z.ZodType } ? z.input<S> : never;

type Query = Record<string, string | number | undefined>;
export type ServiceFilters = Omit<ListServicesRequest, 'actor' | 'cursor' | 'limit'> & { limit?: number };
export type ConnectionFilters = Omit<ListConnectionsRequest, 'actor' | 'cursor' | 'limit'> & { limit?: number };

export interface PlugboardOptions {
  /** Where the gateway is, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** An org API key (`pb_…`). It is sent as `Authorization: Bearer` and never appears in an error. */
  apiKey: string;
  /** The user the calls act for (`X-User-Id`); the key itself when absent. */
  userId?: string;
  /** Give up on a call after this long (a `network_error`); no limit when absent. */
  timeoutMs?: number;
  /** Another fetch (a proxy agent, a test double); the global one by default. */
  fetch?: typeof fetch;
}

/**
 * A client of Plugboard's REST API, typed by the same contracts as the gateway. Every method throws a
 * `PlugboardError` with Plugboard's code when the call fails, except `proxy`, which hands back the API's answer as is.
 */
export class Plugboard {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: PlugboardOptions) {
    if (!URL.canParse(options.baseUrl) || !/^https?:$/.test(new URL(options.baseUrl).protocol)) {
      throw new TypeError('baseUrl must be the http(s) URL of a Plugboard gateway, such as http://localhost:3000.');
    }
    if (!options.apiKey) throw new TypeError('apiKey is required: an API key of your org (pb_…).');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The same client acting for another user (a product calling on behalf of its users). */
  withUser(userId: string): Plugboard {
    return new Plugboard({ ...this.options, userId });
  }

  readonly services = {
    list: (filters: ServiceFilters & { cursor?: string } = {}) => this.request('listServices', { query: filters }),
    /** Every service matching the filters, across pages. */
    listAll: (filters: ServiceFilters = {}) => paginate((cursor) => this.request('listServices', { query: { ...filters, cursor } })),
    get: (linkName: string) => this.request('getService', { params: { linkName } }),
    create: (service: Body<'createService'>) => this.request('createService', { body: service }),
    edit: (linkName: string, changes: Body<'editService'>) => this.request('editService', { params: { linkName }, body: changes }),
    delete: (linkName: string) => this.request('deleteService', { params: { linkName } }),
  };

  readonly connections = {
    list: (filters: ConnectionFilters & { cursor?: string } = {}) => this.request('listConnections', { query: filters }),
    /** Every connection of the view, across pages. */
    listAll: (filters: ConnectionFilters = {}) => paginate((cursor) => this.request('listConnections', { query: { ...filters, cursor } })),
    get: (linkName: string) => this.request('getConnection', { params: { linkName } }),
    create: (connection: Body<'createConnection'>) => this.request('createConnection', { body: connection }),
    edit: (linkName: string, changes: Body<'editConnection'>) => this.request('editConnection', { params: { linkName }, body: changes }),
    delete: (linkName: string) => this.request('deleteConnection', { params: { linkName } }),
    /** API key `{values}`, Basic `{username, password}`: the connection; OAuth: `{authorizeUrl}` to send the user to. */
    authorize: (linkName: string, authorization: Body<'authorizeConnection'> = {}) => this.request('authorizeConnection', { params: { linkName }, body: authorization }),
    /** Your own authorization; with `{all: true}` (owner or admin), every user's at once. */
    revoke: (linkName: string, options: Body<'revokeConnection'> = {}) => this.request('revokeConnection', { params: { linkName }, body: options }),
    snippet: (linkName: string) => this.request('connectionSnippet', { params: { linkName } }),
  };

  readonly webhook = {
    get: () => this.request('getWebhook'),
    /** Registers or replaces the org's webhook; the answer's `secret` is shown this once. */
    register: (webhook: Body<'registerWebhook'>) => this.request('registerWebhook', { body: webhook }),
    remove: () => this.request('removeWebhook'),
    rotateSecret: () => this.request('rotateWebhookSecret'),
    deliveries: (page: { limit?: number; cursor?: string } = {}) => this.request('listWebhookDeliveries', { query: page }),
  };

  /** The org's API keys (admin keys only). */
  readonly keys = {
    list: async () => (await this.request('listKeys')).items,
    /** The answer's `key` is shown this once. */
    create: (key: Body<'createKey'>) => this.request('createKey', { body: key }),
    revoke: (keyId: string) => this.request('revokeKey', { params: { keyId } }),
  };

  /**
   * Connect links: a single-use URL that lets one user authorize their own credential of a connection in a browser.
   * A product's key may make one for any user; a person's key for itself only. Hand the answer's `url` to the user.
   */
  readonly connectLinks = {
    create: (link: Body<'createConnectLink'>) => this.request('createConnectLink', { body: link }),
  };

  /** Who this key acts as: org, user, role (`GET /v1/session`). */
  session(): Promise<Reply<'getSession'>> {
    return this.request('getSession');
  }

  /**
   * The org's audit trail (admin keys only), in log order. To follow it, keep the position of the last event you
   * stored and ask again with `after` set to it: nothing is ever skipped, not even an event that committed late.
   */
  readonly events = {
    list: (page: { after?: number; limit?: number; cursor?: string } = {}) => this.request('listEvents', { query: page }),
    /** Every event after `after` (the beginning when absent) that is readable now, across pages of `limit`. */
    listAll: ({ after, limit }: { after?: number; limit?: number } = {}) => paginate((cursor) => this.request('listEvents', { query: cursor ? { cursor, limit } : { after, limit } })),
  };

  health(): Promise<HealthView> {
    return this.request('health');
  }

  /** Calls an API through a connection; Plugboard adds the credentials. The API's own status is in the answer, not an error. */
  invoke(call: Body<'invoke'>): Promise<InvokeResponse> {
    return this.request('invoke', { body: call });
  }

  /**
   * Passthrough: `path` (and its query string) is appended to the service's base URL and the API's answer comes back
   * as the raw fetch Response, streamed. Plugboard's own refusals are answered as `{error: {code, message}}` JSON with
   * their HTTP status (`connection_not_found` is a 404, as an API's own 404 would be); only a network failure throws.
   */
  async proxy(linkName: string, path = '', init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.authHeaders())) if (!headers.has(name)) headers.set(name, value);
    const url = `${this.baseUrl}/v1/proxy/${encodeURIComponent(linkName)}/${path.replace(/^\/+/, '')}`;
    return this.send(url, { ...init, headers });
  }

  /** Any route of the contracts, for what the helpers above do not cover. */
  async request<E extends EndpointName>(name: E, options: { params?: Record<string, string>; query?: Query; body?: Body<E> } = {}): Promise<Reply<E>> {
    const endpoint: Endpoint = Endpoints[name];
    const path = endpoint.path.replace(/\{(\w+)\}/g, (_, param: string) => encodeURIComponent(options.params?.[param] ?? ''));
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) search.set(key, String(value));
    const url = `${this.baseUrl}${path}${search.size ? `?${search}` : ''}`;
    const headers: Record<string, string> = { ...this.authHeaders(), accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.send(url, { method: endpoint.method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    if (!text) return undefined as Reply<E>;
    try {
      return JSON.parse(text) as Reply<E>;
    } catch {
      throw new PlugboardError('unexpected_response', response.status, `Plugboard answered ${response.status} with a body that is not JSON; is ${this.baseUrl} a Plugboard gateway?`);
    }
  }

  private authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.options.apiKey}`, ...(this.options.userId ? { 'x-user-id': this.options.userId } : {}) };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const timeout = this.options.timeoutMs ? AbortSignal.timeout(this.options.timeoutMs) : undefined;
    const signal = init.signal && timeout ? AbortSignal.any([init.signal, timeout]) : (init.signal ?? timeout);
    try {
      return await this.fetch(url, { ...init, signal });
    } catch (error) {
      // fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new PlugboardError('network_error', 0, `Could not reach Plugboard at ${this.baseUrl}: ${reason}.`);
    }
  }
}

function errorOf(status: number, text: string): PlugboardError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  if (DomainError.isErrorBody(error)) return new PlugboardError(error.code, status, error.message, error.details);
  return new PlugboardError('unexpected_response', status, `Plugboard answered ${status} without an error body; is the URL a Plugboard gateway?`);
}
