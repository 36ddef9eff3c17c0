import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import { ErrorCodes, HTTP_STATUS } from '@plugboard/contracts';
import { requestIdOf } from '@plugboard/runtime';

/**
 * Distributed mode: /v1/proxy belongs to the invoke-proxy app, which authenticates and streams by itself; the
 * gateway passes such requests through untouched so callers need one base URL.
 */
export function forwardTo(base: string): RequestListener {
  const target = new URL(base);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 512 });
  return (req: IncomingMessage, res: ServerResponse) => {
    // The request id goes along, so both apps log a failure under the id the caller was given.
    const id = requestIdOf(req);
    const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '', ...(id ? { 'x-request-id': id } : {}) };
    const forwarded = transport.request({ protocol: target.protocol, hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, res, () => undefined);
    });
    forwarded.on('error', () => {
      if (res.headersSent) return void res.destroy();
      const error = { code: ErrorCodes.unavailable, message: 'The invoke proxy cannot be reached. Try again shortly.' };
      res.writeHead(HTTP_STATUS[error.code], { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
    });
    pipeline(req, forwarded, () => undefined);
  };
}
