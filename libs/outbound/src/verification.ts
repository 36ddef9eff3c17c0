import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { fillTemplate, type CatalogEntry } from '@plugboard/catalog';
import { DomainError, ErrorCodes, type ServiceDefinition, type StoredCredential, type Verify } from '@plugboard/contracts';
import { hostAllowed, isPrivateAddress, safeLookup } from './address-policy';
import { injectCredentials, type Injection } from './inject-credentials';

/** Where and how a credential of one connection is checked. */
export interface VerificationTarget {
  url: URL;
  injection: Injection;
  allowedHosts: string[];
}

/** The service of a connection, as each app can load it (the catalog entry, or the custom service's definition). */
export type VerifiableService =
  | { type: 'predefined'; entry: CatalogEntry; parameters: Record<string, string>; oauth1Consumer?: { key: string; secret: string } | null }
  | { type: 'custom'; definition: ServiceDefinition; oauth1ConsumerSecret?: string | null };

/**
 * `accepted`: 2xx. `rejected`: 401 or 403, the credential is refused for good. `inconclusive`: anything else
 * (network error, timeout, 5xx, 429, an unexpected status), which says nothing about the credential.
 */
export type VerificationOutcome = { result: 'accepted' | 'rejected'; status: number } | { result: 'inconclusive'; status: number | null; reason: string };

export interface VerificationOptions {
  /** Hosts or addresses exempt from the private-address block and allowed over plain http (PLUGBOARD_INVOKE_ALLOW_HOSTS). */
  allowLocal: readonly string[];
  timeoutMs: number;
}

function joinPath(baseUrl: string, verify: Verify): URL {
  const url = new URL(baseUrl);
  const [path, search] = verify.path.split('?', 2);
  url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
  url.search = search ?? '';
  return url;
}

/**
 * The verification call of a connection's service, or null when it declares none or its credential cannot travel on
 * a GET (form data). Templated catalog URLs are filled with the connection's parameters (pattern-checked).
 */
export function verificationTargetOf(service: VerifiableService): VerificationTarget | null {
  if (service.type === 'predefined') {
    const { entry } = service;
    if (!entry.verify) return null;
    const fill = (template: string) => fillTemplate(template, entry.connectionParameters ?? [], service.parameters);
    const url = joinPath(fill(entry.baseUrl), { method: 'GET', path: fill(entry.verify.path) });
    const allowedHosts = entry.allowedHosts.map(fill);
    let injection: Injection;
    switch (entry.authType) {
      case 'api_key':
        if (entry.apiKey.params.some((p) => p.paramType === 'form')) return null;
        injection = { kind: 'api_key', params: entry.apiKey.params.map((p) => ({ name: p.name, paramType: p.paramType, prefix: p.prefix })) };
        break;
      case 'basic':
        injection = { kind: 'basic' };
        break;
      case 'oauth2':
        injection = { kind: 'oauth2', paramType: entry.oauth2.paramType, header: entry.oauth2.accessTokenHeader };
        break;
      case 'oauth1':
        if (!service.oauth1Consumer || entry.oauth1.paramType === 'form' || entry.oauth1.signatureMethod === 'RSA-SHA1') return null;
        injection = { kind: 'oauth1', paramType: entry.oauth1.paramType, consumerKey: service.oauth1Consumer.key, consumerSecret: service.oauth1Consumer.secret, signatureMethod: entry.oauth1.signatureMethod };
        break;
    }
    return { url, injection, allowedHosts };
  }
  const { definition: d } = service;
  if (!d.verify || !d.baseUrl) return null;
  let injection: Injection;
  if (d.apiKey) {
    if (d.apiKey.params.some((p) => p.paramType === 'form')) return null;
    injection = { kind: 'api_key', params: d.apiKey.params };
  } else if (d.oauth2) {
    injection = { kind: 'oauth2', paramType: d.oauth2.paramType };
  } else if (d.oauth1) {
    if (!service.oauth1ConsumerSecret || d.oauth1.paramType === 'form') return null;
    injection = { kind: 'oauth1', paramType: d.oauth1.paramType, consumerKey: d.oauth1.consumerKey, consumerSecret: service.oauth1ConsumerSecret, signatureMethod: 'HMAC-SHA1' };
  } else {
    injection = { kind: 'basic' };
  }
  return { url: joinPath(d.baseUrl, d.verify), injection, allowedHosts: d.allowedHosts };
}

/** The same destination rules as the invoke proxy: the service's hosts, https unless allowed, no private address. */
function checkDestination(target: VerificationTarget, allowLocal: readonly string[]): void {
  const { url } = target;
  if (!hostAllowed(url.host, target.allowedHosts) && !hostAllowed(url.hostname, target.allowedHosts)) {
    throw new DomainError(ErrorCodes.hostNotAllowed, `The verification call goes to ${url.host}, which is not one of the hosts this service's credentials may be sent to.`);
  }
  if (url.protocol === 'http:' && !allowLocal.includes(url.hostname)) throw new DomainError(ErrorCodes.hostNotAllowed, 'Credentials are only sent over https.');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && isPrivateAddress(literal) && !allowLocal.includes(literal)) {
    throw new DomainError(ErrorCodes.privateAddress, `${literal} is a private or local address; Plugboard does not send credentials there.`);
  }
}

/**
 * Makes the service's verification call with the credential injected, once: no redirect followed, a deadline, the
 * body discarded. Throws `host_not_allowed` / `private_address` (DomainError) when the address rules forbid the call;
 * every other failure is an `inconclusive` outcome whose reason holds no secret.
 */
export async function verifyCredential(target: VerificationTarget, credential: StoredCredential, options: VerificationOptions): Promise<VerificationOutcome> {
  checkDestination(target, options.allowLocal);
  const request = injectCredentials({ method: 'GET', url: target.url, headers: { accept: 'application/json', 'user-agent': 'Plugboard' }, form: null, body: null }, target.injection, credential);
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(request.url, { method: 'GET', headers: request.headers, lookup: safeLookup(options.allowLocal), timeout: options.timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve({ result: 'accepted', status });
      else if (status === 401 || status === 403) resolve({ result: 'rejected', status });
      else resolve({ result: 'inconclusive', status, reason: `HTTP ${status}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPRIVATE') return reject(new DomainError(ErrorCodes.privateAddress, error.message));
      resolve({ result: 'inconclusive', status: null, reason: error.code ?? 'connection failed' });
    });
    req.end();
  });
}
