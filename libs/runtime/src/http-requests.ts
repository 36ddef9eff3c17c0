import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CorrelationIdSchema, ErrorCodes, HTTP_STATUS, requestTargetProblem, type ErrorBody } from '@plugboard/contracts';

/** Where the passthrough proxy starts: its query belongs to the API it calls. */
const PROXY_PREFIX = '/v1/proxy/';

/**
 * The caller's X-Request-Id when it is a sane id, else a new one; set on the request (`req.id`, where pino-http and
 * error logs look for it) and answered back in the same header.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const known = (req as { id?: unknown }).id;
  if (typeof known === 'string') return known;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && CorrelationIdSchema.safeParse(given).success ? given : randomUUID();
  (req as { id?: string }).id = id;
  res.setHeader('x-request-id', id);
  return id;
}

/** The id `assignRequestId` gave a request, if it ran. */
export function requestIdOf(req: unknown): string | undefined {
  const id = (req as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Refuses, with `400 invalid_characters`, a request whose path or query holds a NUL or another control character
 * (percent-encoded: raw ones never get past Node's parser), or whose path is not valid percent-encoding. It runs
 * ahead of every route, the passthrough proxy included, because such bytes otherwise reach PostgreSQL (which cannot
 * store a NUL) or a header. True when it answered.
 */
export function refuseBadRequestTarget(req: IncomingMessage, res: ServerResponse): boolean {
  const target = req.url ?? '/';
  const problem = requestTargetProblem(target, { apiQuery: target.startsWith(PROXY_PREFIX) });
  if (problem === null) return false;
  assignRequestId(req, res);
  answerError(res, { code: ErrorCodes.invalidCharacters, message: problem });
  // The body, if any, is read and dropped so a keep-alive connection stays usable.
  req.resume();
  return true;
}

/** Writes `{error}` with the status its code stands for. */
export function answerError(res: ServerResponse, error: ErrorBody): void {
  const body = JSON.stringify({ error });
  res.writeHead(HTTP_STATUS[error.code], { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Parser errors about a byte that has no place where it was found (a control character in a header, the request line…). */
const CHARACTER_ERRORS = new Set(['HPE_INVALID_HEADER_TOKEN', 'HPE_INVALID_URL', 'HPE_INVALID_METHOD', 'HPE_INVALID_VERSION', 'HPE_INVALID_CONSTANT', 'HPE_LF_EXPECTED', 'HPE_CR_EXPECTED', 'HPE_STRICT']);
/** What Node answers by itself for the parser errors that are not about bad bytes. */
const NODE_ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * A server's `clientError` listener: a request Node could not parse (a control character in a header value or in
 * the request line) is answered in Plugboard's error shape, `400 invalid_characters`, instead of Node's bare 400.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const known = NODE_ANSWERS[error.code ?? ''];
  if (known) return void socket.end(`HTTP/1.1 ${known}\r\nConnection: close\r\n\r\n`);
  const body = JSON.stringify({
    error: CHARACTER_ERRORS.has(error.code ?? '')
      ? { code: ErrorCodes.invalidCharacters, message: 'The request holds a character HTTP does not allow where it stands (a control character in a header value or in the request line).' }
      : { code: ErrorCodes.validationFailed, message: 'The request is not valid HTTP/1.1.' },
  });
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
