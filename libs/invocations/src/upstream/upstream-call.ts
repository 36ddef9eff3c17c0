import type { Readable } from 'node:stream';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { formPayload, type OutgoingRequest } from '@plugboard/outbound';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface UpstreamOptions {
  /** The pool of connections to the APIs (InvokeSettings.dispatcher), connecting through the egress policy. */
  dispatcher: Dispatcher;
  timeoutMs: number;
}

/** The API's answer as it begins: status, headers, and the body still to read. */
export type UpstreamAnswer = Dispatcher.ResponseData;

/** undici's deadlines (connect, headers, silence in the body): the API did not answer in time. */
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Headers that belong to one hop, never forwarded either way (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
/** The caller's own credentials, Plugboard's headers and what the hops in front of it added: never sent to the API. */
const CALLER_ONLY = new Set(['authorization', 'cookie', 'x-user-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'via']);

type NodeHeaders = Record<string, string | string[] | undefined>;

/** The headers that may go on to the next hop: no hop-by-hop ones, nor those the Connection header names. */
export function forwardable(headers: NodeHeaders, { fromCaller }: { fromCaller: boolean }): Record<string, string> {
  // Plain loops: this runs twice per proxied call.
  let hopOnly: Set<string> | null = null;
  for (const name in headers) {
    if (name.length === 10 && name.toLowerCase() === 'connection') hopOnly = new Set(String(headers[name]).split(',').map((t) => t.trim().toLowerCase()));
  }
  const out: Record<string, string> = {};
  for (const given in headers) {
    const value = headers[given];
    const name = given.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || hopOnly?.has(name) || (fromCaller && CALLER_ONLY.has(name))) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Sends one request to the API and resolves once its answer has begun: no redirect followed, a deadline (`timeoutMs`
 * of silence). Headers must be forwardable ones; `host` comes from the URL.
 */
export function sendUpstream(url: URL, request: { method: string; headers: Record<string, string>; body: Buffer | Readable | null }, options: UpstreamOptions): Promise<UpstreamAnswer> {
  // Plugboard holds or streams the body itself (Node's server answered the caller's 100-continue); undici refuses `expect`.
  delete request.headers.expect;
  return undiciRequest(url, { dispatcher: options.dispatcher, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body }).catch((error: Error) => {
    throw upstreamError(error, url, options.timeoutMs);
  });
}

/** A failed exchange as a stable error code. */
export function upstreamError(error: Error, url: URL, timeoutMs: number): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && TIMEOUTS.has(code)) return timeoutError(timeoutMs);
  if (code === 'EPRIVATE') return new DomainError(ErrorCodes.privateAddress, error.message);
  return new DomainError(ErrorCodes.upstreamUnreachable, `The API at ${url.host} could not be reached (${code ?? 'connection failed'}).`);
}

function timeoutError(timeoutMs: number): DomainError {
  return new DomainError(ErrorCodes.upstreamTimeout, `The API did not answer within ${timeoutMs} ms.`);
}

/** One HTTP exchange with the API, its answer read whole (at most `maxResponseBytes`). */
export async function callUpstream(request: OutgoingRequest, options: UpstreamOptions & { maxResponseBytes: number }): Promise<UpstreamResponse> {
  const form = formPayload(request);
  const body = form ? form.body : request.body;
  const headers = { ...request.headers };
  delete headers['content-length'];
  if (form) headers['content-type'] = form.contentType;
  if (body) headers['content-length'] = String(body.length);
  const answer = await sendUpstream(request.url, { method: request.method, headers, body }, options);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxResponseBytes) throw new DomainError(ErrorCodes.upstreamTooLarge, `The API's answer is larger than ${options.maxResponseBytes} bytes.`);
      chunks.push(chunk);
    }
  } catch (error) {
    throw upstreamError(error as Error, request.url, options.timeoutMs);
  }
  const { 'content-length': _length, ...out } = forwardable(answer.headers, { fromCaller: false });
  return { status: answer.statusCode, headers: out, body: Buffer.concat(chunks) };
}
