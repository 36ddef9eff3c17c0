import http from 'node:http';
import https from 'node:https';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { formPayload, type OutgoingRequest } from '@plugboard/outbound';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface UpstreamOptions {
  lookup: http.RequestOptions['lookup'];
  timeoutMs: number;
  maxResponseBytes: number;
}

// Reused connections to the APIs: keep-alive saves a TCP (and TLS) handshake per call.
const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }) };

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

/** The transport and pooled agent for a URL. */
export function transportFor(url: URL): { request: typeof http.request; agent: http.Agent } {
  return url.protocol === 'https:' ? { request: https.request, agent: agents['https:'] } : { request: http.request, agent: agents['http:'] };
}

/** A failed exchange as a stable error code. */
export function upstreamError(error: Error, url: URL): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPRIVATE') return new DomainError(ErrorCodes.privateAddress, error.message);
  return new DomainError(ErrorCodes.upstreamUnreachable, `The API at ${url.host} could not be reached (${code ?? 'connection failed'}).`);
}

export function timeoutError(timeoutMs: number): DomainError {
  return new DomainError(ErrorCodes.upstreamTimeout, `The API did not answer within ${timeoutMs} ms.`);
}

/** One HTTP exchange with the API: no redirect followed, a deadline, and a cap on what is read back. */
export function callUpstream(request: OutgoingRequest, options: UpstreamOptions): Promise<UpstreamResponse> {
  const form = formPayload(request);
  const body = form ? form.body : request.body;
  const headers = { ...request.headers };
  delete headers['content-length'];
  if (form) headers['content-type'] = form.contentType;
  if (body) headers['content-length'] = String(body.length);
  const transport = transportFor(request.url);
  return new Promise((resolve, reject) => {
    const req = transport.request(
      request.url,
      { method: request.method, headers, lookup: options.lookup, agent: transport.agent, timeout: options.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) {
            req.destroy(new DomainError(ErrorCodes.upstreamTooLarge, `The API's answer is larger than ${options.maxResponseBytes} bytes.`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const { 'content-length': _length, ...out } = forwardable(res.headers, { fromCaller: false });
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(timeoutError(options.timeoutMs)));
    req.on('error', (error) => reject(upstreamError(error, request.url)));
    req.end(body ?? undefined);
  });
}
