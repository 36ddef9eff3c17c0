import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DomainError, ErrorCodes, invalidField, Subjects, type Actor, type InvokeResponse } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { RpcClient } from '@plugboard/messaging';
import { LOGGER, PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import type { z } from 'zod';
import type { InvokeInputSchema } from '@plugboard/contracts';
import { isIP } from 'node:net';
import { hostAllowed, isPrivateAddress, safeLookup } from './safety/address-policy';
import { injectCredentials, type OutgoingRequest } from './targets/inject-credentials';
import { TargetResolver, type InvokeTarget } from './targets/target.resolver';
import { callUpstream, HOP_BY_HOP, type UpstreamResponse } from './upstream/upstream-call';

type InvokeInput = z.output<typeof InvokeInputSchema>;

const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Headers a caller may not set: its own credentials must never reach the API, and hops are ours. */
const REFUSED_HEADERS = new Set([...HOP_BY_HOP, 'authorization', 'proxy-authorization', 'cookie']);

/** Calls an API through a connection: resolve, check where the call goes, inject, send, and retry once after a refresh. */
@Injectable()
export class InvokeService {
  private readonly allowedLocal: string[];
  private readonly lookup: ReturnType<typeof safeLookup>;
  private readonly timeoutMs: number;

  constructor(
    private readonly targets: TargetResolver,
    private readonly store: EventStore,
    private readonly rpc: RpcClient,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.allowedLocal = (config.PLUGBOARD_INVOKE_ALLOW_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    this.lookup = safeLookup(this.allowedLocal);
    this.timeoutMs = config.PLUGBOARD_INVOKE_TIMEOUT_MS;
  }

  async invoke(actor: Actor, input: InvokeInput): Promise<InvokeResponse> {
    const started = Date.now();
    let url: URL | null = null;
    try {
      let target = await this.targets.resolve(actor, input.connection);
      url = this.destination(target, input);
      let response = await this.send(target, input, url);
      if (response.status === 401 && target.injection.kind === 'oauth2' && (await this.refreshed(target))) {
        target = await this.targets.resolve(actor, input.connection);
        response = await this.send(target, input, url);
      }
      this.record(actor, input, url, response.status, null, started);
      return { status: response.status, headers: response.headers, body: decodeBody(response) };
    } catch (error) {
      this.record(actor, input, url, null, error instanceof DomainError ? error.code : ErrorCodes.internal, started);
      throw error;
    }
  }

  /** The absolute URL, on one of the service's hosts, over https unless the operator allowed the host. */
  private destination(target: InvokeTarget, input: InvokeInput): URL {
    let url: URL;
    try {
      url = /^https?:\/\//i.test(input.url) ? new URL(input.url) : new URL(input.url.replace(/^\//, ''), `${(target.baseUrl ?? '').replace(/\/?$/, '/')}`);
    } catch {
      throw invalidField('invoke.url', `"${input.url}" is neither absolute nor relative to the service's base URL`);
    }
    for (const [name, value] of Object.entries(input.query ?? {})) url.searchParams.append(name, value);
    if (!hostAllowed(url.host, target.allowedHosts) && !hostAllowed(url.hostname, target.allowedHosts)) {
      throw new DomainError(ErrorCodes.hostNotAllowed, `${url.host} is not one of the hosts this service's credentials may be sent to (${target.allowedHosts.join(', ') || 'none'}).`);
    }
    if (url.protocol === 'http:' && !this.allowedLocal.includes(url.hostname)) {
      throw new DomainError(ErrorCodes.hostNotAllowed, 'Credentials are only sent over https.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DomainError(ErrorCodes.hostNotAllowed, 'Only http(s) APIs can be called.');
    // An address written out is connected to without a DNS lookup, so the lookup's check must be made here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isPrivateAddress(literal) && !this.allowedLocal.includes(literal)) {
      throw new DomainError(ErrorCodes.privateAddress, `${literal} is a private or local address; Plugboard does not send credentials there.`);
    }
    return url;
  }

  private send(target: InvokeTarget, input: InvokeInput, url: URL): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {};
    const given = Object.entries(input.headers ?? {});
    // Headers the caller's Connection header names are for its hop only (RFC 9110 §7.6.1).
    const hopOnly = new Set(given.filter(([name]) => name.toLowerCase() === 'connection').flatMap(([, value]) => value.split(',').map((t) => t.trim().toLowerCase())));
    for (const [name, value] of given) if (!REFUSED_HEADERS.has(name.toLowerCase()) && !hopOnly.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    let body: Buffer | null = null;
    let form: Record<string, string> | null = null;
    if (input.body !== undefined && input.body !== null) {
      const type = headers['content-type'] ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') && typeof input.body === 'object') form = Object.fromEntries(Object.entries(input.body as object).map(([k, v]) => [k, String(v)]));
      else if (typeof input.body === 'string') body = Buffer.from(input.body);
      else {
        body = Buffer.from(JSON.stringify(input.body));
        headers['content-type'] ||= 'application/json';
      }
    } else if (target.injection.kind === 'api_key' && target.injection.params.some((p) => p.paramType === 'form') && input.method !== 'GET' && input.method !== 'HEAD') {
      form = {};
    }
    const outgoing: OutgoingRequest = { method: input.method, url, headers, form, body };
    return callUpstream(injectCredentials(outgoing, target.injection, target.credential), { lookup: this.lookup, timeoutMs: this.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
  }

  /** After a 401, once: ask the token-refresh app for a fresh token. False when none could be had. */
  private async refreshed(target: InvokeTarget): Promise<boolean> {
    try {
      const reply = await this.rpc.request(
        Subjects.tokenRefresh.refresh,
        { orgId: target.orgId, linkName: target.linkName, userId: target.credentialUser, seenVersion: target.credentialVersion },
        // Longer than a refresh lease: another replica may hold this credential's lease for that long.
        { timeoutMs: 35_000 },
      );
      this.targets.evict(target.orgId, target.linkName);
      return reply.outcome === 'refreshed' || reply.outcome === 'already_fresh';
    } catch {
      return false;
    }
  }

  /** The invocation log, written after the answer so it never slows a call; it never holds secrets, bodies or query values. */
  private record(actor: Actor, input: InvokeInput, url: URL | null, status: number | null, errorCode: string | null, started: number): void {
    this.store.dataSource
      .query(`INSERT INTO invocations (org_id, user_id, connection, method, host, path, status, error_code, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        actor.orgId,
        actor.userId,
        input.connection,
        input.method,
        url?.host ?? null,
        url?.pathname ?? null,
        status,
        errorCode,
        Date.now() - started,
      ])
      .catch((error) => this.logger.warn({ err: error }, 'could not record an invocation'));
  }
}

function decodeBody(response: UpstreamResponse): unknown {
  const text = response.body.toString('utf8');
  if ((response.headers['content-type'] ?? '').includes('json') && text.length > 0) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
