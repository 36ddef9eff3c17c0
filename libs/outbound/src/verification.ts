import type { StoredCredential } from '@plugboard/contracts';
import { egressDomainError, type EgressPolicy } from './egress-policy';
import { appendPath } from './http';
import { injectCredentials, type Injection } from './inject-credentials';
import { fillServiceUrl, serviceTargetOf, type ServiceCalls } from './service-target';

/** Where and how a credential of one connection is checked. */
export interface VerificationTarget {
  url: URL;
  injection: Injection;
  allowedHosts: string[];
}

/**
 * `accepted`: 2xx. `rejected`: 401 or 403, the credential is refused for good. `inconclusive`: anything else
 * (network error, timeout, 5xx, 429, an unexpected status), which says nothing about the credential.
 */
export type VerificationOutcome = { result: 'accepted' | 'rejected'; status: number } | { result: 'inconclusive'; status: number | null; reason: string };

/**
 * The verification call of a connection's service, or null when it declares none, has no base URL, or its
 * credential cannot travel on a GET (form data) or be signed (see `serviceTargetOf`).
 */
export function verificationTargetOf(calls: ServiceCalls): VerificationTarget | null {
  const target = serviceTargetOf(calls);
  if (!target || !calls.verifyPath || !target.baseUrl) return null;
  const injection = target.injection;
  if ((injection.kind === 'api_key' && injection.params.some((p) => p.paramType === 'form')) || (injection.kind === 'oauth1' && injection.paramType === 'form')) return null;
  const [pathname, search] = fillServiceUrl(calls, calls.verifyPath).split('?', 2);
  return { url: appendPath(target.baseUrl, pathname, search), injection, allowedHosts: target.allowedHosts };
}

/**
 * Makes the service's verification call with the credential injected, once, under the egress policy: the service's
 * hosts, the address checked when the socket connects, no redirect followed, a deadline (the policy's unless a
 * shorter one is given, e.g. within a refresh lease), the body
 * discarded. Throws `host_not_allowed` / `private_address` (DomainError) when the policy refuses the call; every
 * other failure is an `inconclusive` outcome whose reason holds no secret.
 */
export async function verifyCredential(target: VerificationTarget, credential: StoredCredential, policy: EgressPolicy, timeoutMs = policy.timeouts.verificationMs): Promise<VerificationOutcome> {
  policy.checkServiceDestination(target.url, target.allowedHosts);
  const request = injectCredentials({ method: 'GET', url: target.url, headers: { accept: 'application/json', 'user-agent': 'Plugboard' }, form: null, body: null }, target.injection, credential);
  return new Promise((resolve, reject) => {
    const req = policy.request(request.url, { method: 'GET', headers: request.headers, timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve({ result: 'accepted', status });
      else if (status === 401 || status === 403) resolve({ result: 'rejected', status });
      else resolve({ result: 'inconclusive', status, reason: `HTTP ${status}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = egressDomainError(error);
      if (refused) return reject(refused);
      resolve({ result: 'inconclusive', status: null, reason: error.code ?? 'connection failed' });
    });
    req.end();
  });
}
