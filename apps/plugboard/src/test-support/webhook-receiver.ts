import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  id: string;
  type: string;
  orgId: string;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
  /** The signature matched the secret the receiver knows, with a timestamp within five minutes. */
  verified: boolean;
  answeredWith: number;
}

/**
 * A webhook receiver as an org would write one: it checks `Plugboard-Signature` with the secret it was given (the
 * README's few lines, not Plugboard's code), and answers 2xx, or what the test asks for while it plays "down".
 */
export class WebhookReceiver {
  secret = '';
  /** Answered instead of 200 while set (with Retry-After when given). */
  failWith: { status: number; retryAfter?: string } | null = null;
  readonly received: ReceivedDelivery[] = [];
  private server?: Server;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/plugboard`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const verified = verifySignature(body, String(req.headers['plugboard-signature'] ?? ''), this.secret);
        const status = !verified ? 400 : (this.failWith?.status ?? 200);
        const parsed = JSON.parse(body) as { id: string; type: string; orgId: string };
        this.received.push({ id: parsed.id, type: parsed.type, orgId: parsed.orgId, body, headers: req.headers, at: Date.now(), verified, answeredWith: status });
        res.writeHead(status, status !== 200 && this.failWith?.retryAfter ? { 'retry-after': this.failWith.retryAfter } : {});
        res.end(status === 200 ? 'ok' : 'not now');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down: the port refuses connections until `start()` listens on it again. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Each event accepted (answered 200), with how many times. */
  accepted(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.received) if (r.answeredWith === 200) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return counts;
  }
}

/** The verification the README shows, as written there. */
export function verifySignature(rawBody: string, header: string, secret: string, toleranceSeconds = 300): boolean {
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(v1 ?? '', 'hex');
  return Math.abs(Date.now() / 1000 - Number(t)) <= toleranceSeconds && given.length === expected.length && timingSafeEqual(given, expected);
}
