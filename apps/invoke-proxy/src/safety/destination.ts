import { isIP } from 'node:net';
import { DomainError, ErrorCodes, invalidField } from '@plugboard/contracts';
import type { InvokeTarget } from '../targets/target.resolver';
import { hostAllowed, isPrivateAddress } from '@plugboard/outbound';

/**
 * Where a call may go: one of the service's hosts, over https unless the operator allowed the host, never to an
 * address written out that is private (the DNS lookup checks names; see `safeLookup`).
 */
export class DestinationPolicy {
  constructor(private readonly allowedLocal: string[]) {}

  /** `url` absolute, or relative to the service's base URL (POST /v1/invoke). */
  resolve(target: InvokeTarget, url: string, query: Record<string, string> = {}): URL {
    let resolved: URL;
    try {
      resolved = /^https?:\/\//i.test(url) ? new URL(url) : new URL(url.replace(/^\//, ''), `${(target.baseUrl ?? '').replace(/\/?$/, '/')}`);
    } catch {
      throw invalidField('invoke.url', `"${url}" is neither absolute nor relative to the service's base URL`);
    }
    for (const [name, value] of Object.entries(query)) resolved.searchParams.append(name, value);
    return this.allowed(target, resolved);
  }

  /**
   * The service's base URL with `path` appended and `search` as given (the passthrough proxy). Appending, never
   * resolving, keeps `//other.host/…` a path on the service's own host.
   */
  append(target: InvokeTarget, path: string, search: string): URL {
    if (!target.baseUrl) throw new DomainError(ErrorCodes.serviceNotConfigured, `The service of "${target.linkName}" has no API base URL; call it with POST /v1/invoke and an absolute URL.`);
    const url = new URL(target.baseUrl);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
    url.search = search;
    return this.allowed(target, url);
  }

  /** The URL, when the target's credential may be sent there. */
  private allowed(target: InvokeTarget, url: URL): URL {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DomainError(ErrorCodes.hostNotAllowed, 'Only http(s) APIs can be called.');
    if (!hostAllowed(url.host, target.allowedHosts) && !hostAllowed(url.hostname, target.allowedHosts)) {
      throw new DomainError(ErrorCodes.hostNotAllowed, `${url.host} is not one of the hosts this service's credentials may be sent to (${target.allowedHosts.join(', ') || 'none'}).`);
    }
    if (url.protocol === 'http:' && !this.allowedLocal.includes(url.hostname)) {
      throw new DomainError(ErrorCodes.hostNotAllowed, 'Credentials are only sent over https.');
    }
    // An address written out is connected to without a DNS lookup, so the lookup's check must be made here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isPrivateAddress(literal) && !this.allowedLocal.includes(literal)) {
      throw new DomainError(ErrorCodes.privateAddress, `${literal} is a private or local address; Plugboard does not send credentials there.`);
    }
    return url;
  }
}
