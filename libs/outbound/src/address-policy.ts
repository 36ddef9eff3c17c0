import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { DomainError, ErrorCodes } from '@plugboard/contracts';

/** Addresses a credential must never be sent to: loopback, private, link-local (cloud metadata), and the like. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  // No ::ffff:0:0/96 here: BlockList already checks IPv4-mapped addresses against the IPv4 rules, and that subnet
  // would match every IPv4 address, public ones included.
  // Prefixes that carry an IPv4 address inside (NAT64, 6to4, Teredo): the address within could be a private one.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
  ['2001::', 32],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return PRIVATE.check(address, family);
}

/** Refusals carry the code EPRIVATE, which the HTTP callers turn into `private_address`. */
function privateAddressError(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'EPRIVATE' });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for outgoing calls that refuses private addresses. It runs when the socket connects, on the address
 * actually used, so a name that resolves to a public address when checked and to a private one a moment later (DNS
 * rebinding) is still refused. Hosts or addresses in `allowed` (PLUGBOARD_INVOKE_ALLOW_HOSTS) are exempt.
 */
export function safeLookup(allowed: readonly string[]) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const usable = allowed.includes(hostname) ? list : list.filter((a) => allowed.includes(a.address) || !isPrivateAddress(a.address));
      if (usable.length === 0) return callback(privateAddressError(`${hostname} resolves to a private or local address; Plugboard does not send credentials there.`), []);
      if (options.all) return callback(null, usable);
      return callback(null, usable[0].address, usable[0].family);
    });
  };
}

/** Whether `host` is one of the service's allowed hosts (`api.example.com`, or `*.example.com` for one label). */
export function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowedHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p.startsWith('*.')) {
      const suffix = p.slice(1);
      return h.endsWith(suffix) && !h.slice(0, -suffix.length).includes('.') && h.length > suffix.length;
    }
    return h === p;
  });
}

/**
 * Where a credential may go: one of the service's hosts, over https unless the operator allowed the host, never to
 * an address written out that is private (names are checked when they resolve: see `safeLookup`).
 */
export function assertDestination(url: URL, allowedHosts: readonly string[], allowLocal: readonly string[]): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DomainError(ErrorCodes.hostNotAllowed, 'Only http(s) APIs can be called.');
  if (!hostAllowed(url.host, allowedHosts) && !hostAllowed(url.hostname, allowedHosts)) {
    throw new DomainError(ErrorCodes.hostNotAllowed, `${url.host} is not one of the hosts this service's credentials may be sent to (${allowedHosts.join(', ') || 'none'}).`);
  }
  if (url.protocol === 'http:' && !allowLocal.includes(url.hostname)) throw new DomainError(ErrorCodes.hostNotAllowed, 'Credentials are only sent over https.');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && isPrivateAddress(literal) && !allowLocal.includes(literal)) {
    throw new DomainError(ErrorCodes.privateAddress, `${literal} is a private or local address; Plugboard does not send credentials there.`);
  }
}

/**
 * `fetch` for the OAuth clients (token, refresh, revocation, OAuth 1.0a request-token calls), whose URLs a custom
 * service's owner chooses: the host is resolved first and refused when it is, or resolves to, a private address
 * (unless allowed). The check precedes the connection, unlike `safeLookup`'s; it keeps a service from being pointed
 * inside the deployment.
 */
export function publicOnlyFetch(allowed: readonly string[]): typeof fetch {
  const lookup = safeLookup(allowed);
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowed.includes(host)) {
      if (isIP(host) && isPrivateAddress(host)) throw privateAddressError(`${host} is a private or local address; Plugboard does not send credentials there.`);
      // A name that does not resolve is left to fetch, which reports it as the network error it is.
      if (!isIP(host)) await new Promise<void>((resolve, reject) => lookup(host, { all: true }, (error) => (error?.code === 'EPRIVATE' ? reject(error) : resolve())));
    }
    return fetch(input, init);
  };
}
