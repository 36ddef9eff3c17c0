import http from 'node:http';
import https from 'node:https';
import { safeLookup } from '@plugboard/outbound';

/** What one attempt came to; a receiver's body is read (to free the socket) but never kept. */
export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: 'http_status' | 'timeout' | 'unreachable' | 'private_address'; retryAfter?: string };

/**
 * POSTs one delivery: no redirect followed (a 3xx is a failure), a deadline for the whole exchange, and names that
 * resolve to a private address refused when the socket connects unless `allowedHosts` names them.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; allowedHosts: readonly string[] }): Promise<AttemptResult> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const req = transport.request(
      target,
      { method: 'POST', lookup: safeLookup(options.allowedHosts), headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Plugboard-Webhooks/1' } },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on('data', () => undefined);
        res.on('error', () => settle({ ok: false, status, error: 'unreachable' }));
        res.on('end', () => {
          if (status >= 200 && status < 300) settle({ ok: true, status });
          else settle({ ok: false, status, error: 'http_status', retryAfter: headerValue(res.headers['retry-after']) });
        });
      },
    );
    const deadline = setTimeout(() => {
      settle({ ok: false, status: null, error: 'timeout' });
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle({ ok: false, status: null, error: error.code === 'EPRIVATE' ? 'private_address' : 'unreachable' }));
    req.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
