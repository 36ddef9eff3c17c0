import { OAuth1Error, signRequest } from '@plugboard/oauth1';
import { DomainError, ErrorCodes, isHeaderValue, type StoredCredential } from '@plugboard/contracts';

/** How a service wants its credentials sent, whatever its origin (custom or catalog). */
export type Injection =
  | { kind: 'api_key'; params: { name: string; paramType: 'header' | 'query' | 'form'; prefix?: string }[] }
  | { kind: 'basic' }
  | { kind: 'oauth2'; paramType: 'header' | 'query'; header?: { name: string; prefix: string } }
  | { kind: 'oauth1'; paramType: 'header' | 'query' | 'form'; consumerKey: string; consumerSecret: string; signatureMethod: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT' };

/** The fields of an application/x-www-form-urlencoded body, in order; a name may repeat. */
export type FormFields = Array<[string, string]>;

export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** The body's fields, when it is application/x-www-form-urlencoded and the credential covers them (see `coversForm`). */
  form: FormFields | null;
  /** Any other body, sent byte for byte. */
  body: Buffer | null;
  /** The body is not held here: it follows as a stream (a large proxied upload), so nothing can be added to it. */
  streamed?: boolean;
}

/** Methods whose request has no body to carry a form field (RFC 9110 §9.3.1, §9.3.2). */
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Whether form fields of the body are part of what the credential covers (an API key in the form, an OAuth 1 signature). */
export function coversForm(injection: Injection): boolean {
  return injection.kind === 'oauth1' || (injection.kind === 'api_key' && injection.params.some((p) => p.paramType === 'form'));
}

/** Whether a Content-Type names an application/x-www-form-urlencoded body (parameters such as charset allowed). */
export function isFormContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === FORM_TYPE;
}

/** The fields of a form body, in order, decoded as the form encoding says ("+" is a space). */
export function parseForm(text: string): FormFields {
  return [...new URLSearchParams(text)];
}

/** A form body's text, and the content type it goes with: the caller's own form type (with its charset) when it had one. */
export function formPayload(request: OutgoingRequest): { body: Buffer; contentType: string } | null {
  if (!request.form) return null;
  const type = request.headers['content-type'];
  return { body: Buffer.from(new URLSearchParams(request.form).toString()), contentType: isFormContentType(type) ? (type as string) : FORM_TYPE };
}

/**
 * A header value made from a stored credential. Authorizing refuses values no header can carry, but one stored
 * before that check (or a token a provider sent) would make Node throw mid-call: refused here, by a stable code.
 */
function credentialHeader(value: string): string {
  if (isHeaderValue(value)) return value;
  throw new DomainError(ErrorCodes.credentialUnusable, 'The stored credential of this connection holds characters an HTTP header cannot carry (such as a line break). Authorize the connection again.');
}

/**
 * The form a credential sent as form data goes into: the caller's own form (kept, fields and order), or a new one
 * when the call has no body and its method can carry one. Any other body (JSON, text, binary, a stream) is refused,
 * never replaced: the caller's data must reach the API as sent or not at all.
 */
function formFor(request: OutgoingRequest, credential: string): FormFields {
  if (request.form) return request.form;
  const empty = !request.streamed && (request.body === null || request.body.length === 0);
  if (empty && !BODYLESS_METHODS.has(request.method)) return [];
  const reason = empty
    ? `a ${request.method} request has no body to carry it. Call with POST, PUT or PATCH`
    : `the call's body is ${describeBody(request.headers['content-type'])}, which cannot carry a form field, and Plugboard never replaces a body. Send the body as application/x-www-form-urlencoded fields (or none)`;
  throw new DomainError(ErrorCodes.formBodyRequired, `This connection's service sends its ${credential} as form data (param type "form"), but ${reason}, or have the service's param type changed.`);
}

function describeBody(contentType: string | undefined): string {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type ? `${type}` : 'of no declared type';
}

/** A credential must not silently overwrite a field the caller set itself: the API would get one of the two values. */
function refuseConflict(taken: boolean, name: string, where: 'query string' | 'form' | 'header'): void {
  if (!taken) return;
  const field = where === 'header' ? `header ${name}` : `${where} field "${name}"`;
  throw new DomainError(ErrorCodes.credentialParamConflict, `The call already has a ${field}, where this connection's service puts its credential (param type "${where === 'query string' ? 'query' : where}"). Remove it from the call: Plugboard adds it.`);
}

/**
 * Adds the credential to the request the way the service expects it: header, query string or form data. The caller's
 * request is otherwise kept as it is: form fields are added to a form body, any other body is refused with
 * `form_body_required`, and a field of the caller's where a credential goes is refused with `credential_param_conflict`.
 */
export function injectCredentials(request: OutgoingRequest, injection: Injection, credential: StoredCredential): OutgoingRequest {
  const out: OutgoingRequest = { ...request, url: new URL(request.url), headers: { ...request.headers }, form: request.form ? [...request.form] : null };
  switch (injection.kind) {
    case 'api_key': {
      if (credential.kind !== 'api_key') throw new Error('the stored credential does not match the service');
      if (injection.params.some((p) => p.paramType === 'form')) out.form = formFor(out, 'API key');
      for (const param of injection.params) {
        const value = credential.values[param.name];
        if (value === undefined) continue;
        if (param.paramType === 'header') {
          refuseConflict(out.headers[param.name.toLowerCase()] !== undefined, param.name, 'header');
          out.headers[param.name.toLowerCase()] = credentialHeader(`${param.prefix ?? ''}${value}`);
        } else if (param.paramType === 'query') {
          refuseConflict(out.url.searchParams.has(param.name), param.name, 'query string');
          out.url.searchParams.append(param.name, value);
        } else {
          const form = out.form as FormFields;
          refuseConflict(form.some(([name]) => name === param.name), param.name, 'form');
          form.push([param.name, value]);
        }
      }
      return out;
    }
    case 'basic':
      if (credential.kind !== 'basic') throw new Error('the stored credential does not match the service');
      out.headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      return out;
    case 'oauth2':
      if (credential.kind !== 'oauth2') throw new Error('the stored credential does not match the service');
      if (injection.paramType === 'query') {
        refuseConflict(out.url.searchParams.has('access_token'), 'access_token', 'query string');
        out.url.searchParams.append('access_token', credential.accessToken);
      } else {
        const name = injection.header?.name.toLowerCase() ?? 'authorization';
        refuseConflict(out.headers[name] !== undefined, injection.header?.name ?? 'Authorization', 'header');
        out.headers[name] = credentialHeader(`${injection.header?.prefix ?? 'Bearer '}${credential.accessToken}`);
      }
      return out;
    case 'oauth1': {
      if (credential.kind !== 'oauth1') throw new Error('the stored credential does not match the service');
      let paramType = injection.paramType;
      if (paramType === 'form') {
        const bodyless = out.form === null && !out.streamed && (out.body === null || out.body.length === 0) && BODYLESS_METHODS.has(out.method);
        // RFC 5849 §3.5.2 puts the protocol parameters in a form body only where the method has one; §3.5.3 lets a
        // GET or HEAD carry them in the query instead, which the provider must accept as well.
        if (bodyless) paramType = 'query';
        else out.form = formFor(out, 'OAuth 1.0a signature');
      }
      let signed;
      try {
        signed = signRequest({
          method: out.method,
          url: out.url.toString(),
          consumer: { key: injection.consumerKey, secret: injection.consumerSecret },
          token: { key: credential.token, secret: credential.tokenSecret },
          signatureMethod: injection.signatureMethod,
          paramType,
          form: out.form ?? undefined,
        });
      } catch (error) {
        // The caller's request cannot be signed as it is (an oauth_* field of its own, a form body on a GET).
        if (error instanceof OAuth1Error && error.code === 'invalid_request') throw new DomainError(ErrorCodes.credentialParamConflict, `This call cannot be signed with OAuth 1.0a as it is: ${error.message}.`);
        throw error;
      }
      out.url = new URL(signed.url);
      for (const [name, value] of Object.entries(signed.headers)) {
        if (name.toLowerCase() !== 'content-type') out.headers[name.toLowerCase()] = value;
      }
      if (paramType === 'form' && signed.body !== undefined) out.form = parseForm(signed.body);
      return out;
    }
  }
}
