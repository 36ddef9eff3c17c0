import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeys, authenticate } from '@plugboard/access';
import type { InvokeTarget } from '@plugboard/connections';
import { DomainError, ErrorCodes, HTTP_STATUS, type Actor, type ErrorBody } from '@plugboard/contracts';
import { coversForm, formPayload, injectCredentials, isFormContentType, parseForm, type OutgoingRequest } from '@plugboard/outbound';
import { LOGGER, requestIdOf } from '@plugboard/runtime';
import { InvocationLog } from '../invocation-log';
import { InvokeSettings } from '../invoke-settings';
import { CallPipeline, errorCodeOf, type CallAddress, type CallTransport } from '../pipeline/call-pipeline';
import { forwardable, sendUpstream, upstreamError, type UpstreamAnswer as Answer } from '../upstream/upstream-call';

/** `/v1/proxy/{linkName}{path}{?query}` */
const PROXY_PATH = /^\/v1\/proxy\/([^/?#]+)([^?#]*)(\?[^#]*)?$/;
/** A body up to this size is read before sending: it can be sent again after a token refresh. */
const REPLAYABLE_BYTES = 1024 * 1024;
/** A form whose fields the credential covers (API key as form data, OAuth 1 signature) is read whole, up to this. */
const MAX_SIGNED_FORM_BYTES = 10 * 1024 * 1024;
const NO_BODY = Buffer.alloc(0);
/** The request body is passed on as it arrives. */
const STREAMED = 'streamed' as const;

/**
 * `ANY /v1/proxy/{linkName}/<path>`: forwards a request to the connection's API with its credentials added,
 * streaming both ways. A plain Node listener, mounted by the gateway (embedded) or served by the invoke-proxy app (distributed).
 * It checks the path and the caller's API key, then hands the call to the call pipeline with a streaming transport.
 */
@Injectable()
export class ProxyHandler {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly settings: InvokeSettings,
    private readonly log: InvocationLog,
    private readonly apiKeys: ApiKeys,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const match = PROXY_PATH.exec(req.url ?? '');
    const linkName = match ? safeDecode(match[1]) : '';
    const method = req.method ?? 'GET';
    let actor: Actor;
    let address: CallAddress;
    try {
      if (!match || !linkName) throw new DomainError(ErrorCodes.notFound, 'Call /v1/proxy/{link name}/{path of the API}.');
      address = { path: match[2] || '/', search: match[3] ?? '' };
      ({ actor } = await authenticate(this.apiKeys, req.headers, 'member'));
    } catch (error) {
      // Refused at the door, before the pipeline (which records the calls it runs): counted, recorded for no one.
      this.log.record({ entry: 'proxy', actor: null, connection: linkName, method, url: null, status: null, errorCode: errorCodeOf(error), started });
      return this.fail(req, res, error);
    }
    try {
      await this.pipeline.run({ entry: 'proxy', actor, connection: linkName, method, address, started }, new StreamingTransport(req, res, this.settings));
    } catch (error) {
      this.fail(req, res, error);
    }
  }

  /** The error as the caller's answer, or a cut connection when the API's answer had begun; the caller's body is dropped. */
  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const failure = error instanceof DomainError ? error.toBody() : null;
    if (!failure) this.logger.error({ err: error, reqId: requestIdOf(req) }, 'proxy call failed');
    if (!res.headersSent) answer(res, failure ?? { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' });
    else res.destroy();
    req.resume();
  }
}

/**
 * The caller's body read whole when small or a form the credential covers (it can then be sent again), else streamed
 * to the API as it arrives; the API's answer streamed back as it comes, cut off past the size limit.
 */
class StreamingTransport implements CallTransport<Answer, void> {
  private body: Buffer | typeof STREAMED = NO_BODY;
  /** Where the last send went. */
  private url: URL | null = null;
  replayable = true;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly settings: InvokeSettings,
  ) {}

  prepare(target: InvokeTarget): false | Promise<boolean> {
    const { req } = this;
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared === null && req.headers['transfer-encoding'] === undefined) return false;
    if (declared !== null && declared > this.settings.maxStreamBytes) throw tooLarge(this.settings.maxStreamBytes);
    if (isFormContentType(req.headers['content-type']) && coversForm(target.injection)) return this.read(MAX_SIGNED_FORM_BYTES);
    if (declared !== null && declared <= REPLAYABLE_BYTES) return this.read(REPLAYABLE_BYTES);
    this.body = STREAMED;
    this.replayable = false;
    return false;
  }

  /** Resolves once the API's answer has begun. */
  send(target: InvokeTarget, url: URL): Promise<Answer> {
    const { req, body, settings } = this;
    const method = req.method ?? 'GET';
    this.url = url;
    const outgoing: OutgoingRequest = { method, url, headers: forwardable(req.headers, { fromCaller: true }), form: null, body: null, streamed: body === STREAMED };
    if (body !== STREAMED) {
      if (isFormContentType(req.headers['content-type']) && coversForm(target.injection)) outgoing.form = parseForm(body.toString());
      else if (body.length > 0) outgoing.body = body;
    }
    const injected = injectCredentials(outgoing, target.injection, target.credential);
    const form = formPayload(injected);
    const payload = form ? form.body : injected.body;
    if (body !== STREAMED) {
      delete injected.headers['content-length'];
      if (form) injected.headers['content-type'] = form.contentType;
      if (payload) injected.headers['content-length'] = String(payload.length);
    }
    const streamed = body === STREAMED ? Readable.from(limited(req, settings.maxStreamBytes), { objectMode: false }) : null;
    return sendUpstream(injected.url, { method, headers: injected.headers, body: streamed ?? payload }, settings);
  }

  status(answer: Answer): number {
    return answer.statusCode;
  }

  headers(answer: Answer): Answer['headers'] {
    return answer.headers;
  }

  /** Frees the connection of an answer that is not passed on. */
  discard(answer: Answer): void {
    answer.body.dump().catch(() => undefined);
  }

  /** The API's answer, streamed back as it comes, cut off past the size limit. */
  deliver(upstream: Answer): Promise<void> {
    const { res, settings } = this;
    const { body } = upstream;
    const headers: OutgoingHttpHeaders = forwardable(upstream.headers, { fromCaller: false });
    if (upstream.headers['set-cookie']) headers['set-cookie'] = upstream.headers['set-cookie'];
    res.writeHead(upstream.statusCode, headers);
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > settings.maxStreamBytes) body.destroy(new DomainError(ErrorCodes.upstreamTooLarge, `The API's answer is larger than ${settings.maxStreamBytes} bytes.`));
    });
    // pipe rather than stream.pipeline: pipeline costs an AbortController (and a DOMException) per call.
    return new Promise((resolve, reject) => {
      body.on('error', (error) => reject(upstreamError(error, this.url as URL, settings.timeoutMs)));
      res.on('close', () => {
        if (!body.readableEnded) body.destroy();
        resolve();
      });
      body.pipe(res);
    });
  }

  /** Reads the body whole; true when there was one (reading it took the caller's time). */
  private async read(limit: number): Promise<boolean> {
    this.body = await readWhole(this.req, limit);
    return this.body.length > 0;
  }
}

function answer(res: ServerResponse, error: ErrorBody): void {
  const body = JSON.stringify({ error });
  res.writeHead(HTTP_STATUS[error.code], { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
}

function readWhole(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size <= limit) return;
      // Answered with 413; what is left of the body is read and dropped (see `serve`).
      req.off('data', collect);
      reject(tooLarge(limit));
    };
    req.on('data', collect);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The caller's body as it arrives, refused past `limit` bytes. The caller's stream is left open when it is refused
 * (the 413 is its answer), and a caller that goes away mid-upload ends the iteration, so undici cuts the API's request.
 */
async function* limited(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    yield chunk;
  }
}

function tooLarge(limit: number): DomainError {
  return new DomainError(ErrorCodes.payloadTooLarge, `The request body is larger than the ${limit} bytes a call may carry.`);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
