import { appendPath, parseRetryAfter } from './http';
import { hostAllowed, isPrivateAddress } from './address-policy';
import { EgressPolicy } from './egress-policy';

const timeouts = { invokeMs: 1000, webhookMs: 1000, oauthMs: 1000, verificationMs: 1000, signInMs: 1000 };
const assertDestination = (url: URL, hosts: string[], allowHosts: string[]) => new EgressPolicy({ allowHosts, timeouts }).checkServiceDestination(url, hosts);

describe('address policy', () => {
  it('lets a protocol library speak plain http only when every http URL is on a host the operator allows', () => {
    const policy = new EgressPolicy({ allowHosts: ['127.0.0.1', 'idp.test'], timeouts });
    expect(policy.allowsPlainHttp('http://127.0.0.1:9000/token')).toBe(true);
    expect(policy.allowsPlainHttp('http://idp.test/token', 'https://idp.example/refresh', null)).toBe(true);
    expect(policy.allowsPlainHttp('http://127.0.0.1/token', 'http://evil.example/refresh')).toBe(false);
    expect(policy.allowsPlainHttp('https://idp.example/token', null, undefined)).toBe(false);
    expect(policy.allowsPlainHttp('http://10.0.0.1/token')).toBe(false);
  });

  it('knows private, loopback, link-local and embedded-IPv4 addresses from public ones', () => {
    for (const address of ['10.1.2.3', '127.0.0.1', '169.254.169.254', '172.16.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::127.0.0.1', '::a9fe:a9fe', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1']) {
      expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: true });
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: false });
  });

  it('lets a credential go only to the service’s hosts, over https, never to a private address written out', () => {
    expect(() => assertDestination(new URL('https://api.example.com/x'), ['api.example.com'], [])).not.toThrow();
    expect(() => assertDestination(new URL('https://eu.api.example.com/x'), ['*.api.example.com'], [])).not.toThrow();
    expect(() => assertDestination(new URL('https://evil.example/x'), ['api.example.com'], [])).toThrow(expect.objectContaining({ code: 'host_not_allowed' }));
    expect(() => assertDestination(new URL('http://api.example.com/x'), ['api.example.com'], [])).toThrow(expect.objectContaining({ code: 'host_not_allowed' }));
    expect(() => assertDestination(new URL('https://10.0.0.5/x'), ['10.0.0.5'], [])).toThrow(expect.objectContaining({ code: 'private_address' }));
    expect(() => assertDestination(new URL('http://127.0.0.1:8080/x'), ['127.0.0.1:8080'], ['127.0.0.1'])).not.toThrow();
    expect(hostAllowed('a.b.api.example.com', ['*.api.example.com'])).toBe(false);
  });

  it('appends a path without resolving it, and reads Retry-After', () => {
    expect(appendPath('https://api.example.com/v2/', '//other.host/x', '?a=1').toString()).toBe('https://api.example.com/v2//other.host/x?a=1');
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(parseRetryAfter('later')).toBeNull();
  });
});
