import { BlockList, isIP } from 'node:net';

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
  // IPv4-compatible addresses (::a.b.c.d, deprecated by RFC 4291): `::127.0.0.1` is loopback in disguise. The
  // subnet holds :: and ::1 too.
  ['::', 96],
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
