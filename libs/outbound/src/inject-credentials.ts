import { signRequest } from '@plugboard/oauth1';
import { DomainError, ErrorCodes, isHeaderValue, type StoredCredential } from '@plugboard/contracts';

/** How a service wants its credentials sent, whatever its origin (custom or catalog). */
export type Injection =
  | { kind: 'api_key'; params: { name: string; paramType: 'header' | 'query' | 'form'; prefix?: string }[] }
  | { kind: 'basic' }
  | { kind: 'oauth2'; paramType: 'header' | 'query'; header?: { name: string; prefix: string } }
  | { kind: 'oauth1'; paramType: 'header' | 'query' | 'form'; consumerKey: string; consumerSecret: string; signatureMethod: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT' };

export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Form fields, when the request is (or must become) application/x-www-form-urlencoded. */
  form: Record<string, string> | null;
  body: Buffer | null;
}

/** An API key sent as form data makes a body-less call (but a GET or HEAD) a form. */
export function wantsForm(injection: Injection, method: string): boolean {
  return injection.kind === 'api_key' && injection.params.some((p) => p.paramType === 'form') && method !== 'GET' && method !== 'HEAD';
}

/** Whether form fields of the body are part of what the credential covers (an API key in the form, an OAuth 1 signature). */
export function coversForm(injection: Injection): boolean {
  return injection.kind === 'oauth1' || (injection.kind === 'api_key' && injection.params.some((p) => p.paramType === 'form'));
}

/**
 * A header value made from a stored credential. Authorizing refuses values no header can carry, but one stored
 * before that check (or a token a provider sent) would make Node throw mid-call: refused here, by a stable code.
 */
function credentialHeader(value: string): string {
  if (isHeaderValue(value)) return value;
  throw new DomainError(ErrorCodes.credentialUnusable, 'The stored credential of this connection holds characters an HTTP header cannot carry (such as a line break). Authorize the connection again.');
}

/** Adds the credential to the request the way the service expects it: header, query string or form data. */
export function injectCredentials(request: OutgoingRequest, injection: Injection, credential: StoredCredential): OutgoingRequest {
  const out: OutgoingRequest = { ...request, url: new URL(request.url), headers: { ...request.headers }, form: request.form ? { ...request.form } : null };
  switch (injection.kind) {
    case 'api_key': {
      if (credential.kind !== 'api_key') throw new Error('the stored credential does not match the service');
      for (const param of injection.params) {
        const value = credential.values[param.name];
        if (value === undefined) continue;
        if (param.paramType === 'header') out.headers[param.name.toLowerCase()] = credentialHeader(`${param.prefix ?? ''}${value}`);
        else if (param.paramType === 'query') out.url.searchParams.set(param.name, value);
        else out.form = { ...(out.form ?? {}), [param.name]: value };
      }
      return out;
    }
    case 'basic':
      if (credential.kind !== 'basic') throw new Error('the stored credential does not match the service');
      out.headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      return out;
    case 'oauth2':
      if (credential.kind !== 'oauth2') throw new Error('the stored credential does not match the service');
      if (injection.paramType === 'query') out.url.searchParams.set('access_token', credential.accessToken);
      else if (injection.header) out.headers[injection.header.name.toLowerCase()] = credentialHeader(`${injection.header.prefix}${credential.accessToken}`);
      else out.headers.authorization = credentialHeader(`Bearer ${credential.accessToken}`);
      return out;
    case 'oauth1': {
      if (credential.kind !== 'oauth1') throw new Error('the stored credential does not match the service');
      const signed = signRequest({
        method: out.method,
        url: out.url.toString(),
        consumer: { key: injection.consumerKey, secret: injection.consumerSecret },
        token: { key: credential.token, secret: credential.tokenSecret },
        signatureMethod: injection.signatureMethod,
        paramType: injection.paramType,
        form: out.form ?? undefined,
      });
      out.url = new URL(signed.url);
      for (const [name, value] of Object.entries(signed.headers)) out.headers[name.toLowerCase()] = value;
      if (injection.paramType === 'form' && signed.body !== undefined) {
        out.form = Object.fromEntries(new URLSearchParams(signed.body));
      }
      return out;
    }
  }
}
