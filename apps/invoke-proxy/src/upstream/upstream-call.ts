import http from 'node:http';
import https from 'node:https';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import type { OutgoingRequest } from '../targets/inject-credentials';

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

/** Headers that belong to one hop, never forwarded either way. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

/** One HTTP exchange with the API: no redirect followed, a deadline, and a cap on what is read back. */
export function callUpstream(request: OutgoingRequest, options: UpstreamOptions): Promise<UpstreamResponse> {
  const body = request.form ? Buffer.from(new URLSearchParams(request.form).toString()) : request.body;
  const headers = { ...request.headers };
  if (request.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (body) headers['content-length'] = String(body.length);
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      request.url,
      { method: request.method, headers, lookup: options.lookup, agent: agents[request.url.protocol as 'http:' | 'https:'], timeout: options.timeoutMs },
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
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new DomainError(ErrorCodes.upstreamTimeout, `The API did not answer within ${options.timeoutMs} ms.`)));
    req.on('error', (error) => {
      if (error instanceof DomainError) return reject(error);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPRIVATE') return reject(new DomainError(ErrorCodes.privateAddress, error.message));
      reject(new DomainError(ErrorCodes.upstreamUnreachable, `The API at ${request.url.host} could not be reached (${code ?? 'connection failed'}).`));
    });
    req.end(body ?? undefined);
  });
}
