import type { InvokeTarget } from '@plugboard/connections';
import { DomainError, ErrorCodes, invalidField } from '@plugboard/contracts';
import { appendPath, type EgressPolicy } from '@plugboard/outbound';

/** The URL of a call: absolute or relative (POST /v1/invoke), appended (/v1/proxy), always under the egress policy and the service's hosts. */
export class DestinationPolicy {
  constructor(private readonly egress: EgressPolicy) {}

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
    return this.allowed(target, appendPath(target.baseUrl, path, search));
  }

  /** The URL, when the target's credential may be sent there. */
  private allowed(target: InvokeTarget, url: URL): URL {
    this.egress.checkServiceDestination(url, target.allowedHosts);
    return url;
  }
}
