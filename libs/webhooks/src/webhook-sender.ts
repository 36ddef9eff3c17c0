import type { EgressPolicy } from '@plugboard/outbound';

/** What one attempt came to; a receiver's body is read (to free the socket) but never kept. */
export type AttemptResult = { ok: true; status: number } | { ok: false; status: number | null; error: 'http_status' | 'timeout' | 'unreachable' | 'private_address' | 'not_allowed'; retryAfter?: string };

/**
 * POSTs one delivery under the egress policy: no redirect followed (a 3xx is a failure), a deadline for the whole
 * exchange, and a private address refused (written out, or where the name resolves when the socket connects) unless
 * the operator allowed it.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; egress: EgressPolicy }): Promise<AttemptResult> {
  const target = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    let req: ReturnType<EgressPolicy['request']> | undefined;
    const deadline = setTimeout(() => {
      settle({ ok: false, status: null, error: 'timeout' });
      req?.destroy();
    }, options.timeoutMs);
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const refused = (error: NodeJS.ErrnoException): AttemptResult => ({ ok: false, status: null, error: error.code === 'EPRIVATE' ? 'private_address' : error.code === 'EINSECURE' ? 'not_allowed' : 'unreachable' });
    try {
      req = options.egress.request(target, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Plugboard-Webhooks/1' } }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('data', () => undefined);
        res.on('error', () => settle({ ok: false, status, error: 'unreachable' }));
        res.on('end', () => {
          if (status >= 200 && status < 300) settle({ ok: true, status });
          else settle({ ok: false, status, error: 'http_status', retryAfter: headerValue(res.headers['retry-after']) });
        });
      });
    } catch (error) {
      // The policy refused the URL before any socket was opened.
      return settle(refused(error as NodeJS.ErrnoException));
    }
    req.on('error', (error: NodeJS.ErrnoException) => settle(refused(error)));
    req.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
