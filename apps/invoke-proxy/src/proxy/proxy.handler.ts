import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeys, authenticate } from '@plugboard/access';
import { DomainError, ErrorCodes, HTTP_STATUS, type Actor, type ErrorBody } from '@plugboard/contracts';
import { LOGGER, requestIdOf } from '@plugboard/runtime';
import { InvocationLog } from '../invocation-log';
import { InvokeSettings } from '../invoke-settings';
import { coversForm, formPayload, injectCredentials, isFormContentType, parseForm, type OutgoingRequest } from '@plugboard/outbound';
import { TargetResolver, type InvokeTarget } from '../targets/target.resolver';
import { retryDelay } from '../upstream/retry-policy';
import { forwardable, timeoutError, transportFor, upstreamError } from '../upstream/upstream-call';

/** `/v1/proxy/{linkName}{path}{?query}` */
const PROXY_PATH = /^\/v1\/proxy\/([^/?#]+)([^?#]*)(\?[^#]*)?$/;
/** A body up to this size is read before sending: it can be sent again after a token refresh. */
const REPLAYABLE_BYTES = 1024 * 1024;
/** A form whose fields the credential covers (API key as form data, OAuth 1 signature) is read whole, up to this. */
const MAX_SIGNED_FORM_BYTES = 10 * 1024 * 1024;
/** The request body is passed on as it arrives. */
const STREAMED = 'streamed' as const;

/**
 * `ANY /v1/proxy/{linkName}/<path>`: forwards a request to the connection's API with its credentials added,
 * streaming both ways. A plain Node listener, mounted by the gateway (embedded) or served by this app (distributed).
 */
@Injectable()
export class ProxyHandler {
  constructor(
    private readonly targets: TargetResolver,
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
    let actor: Actor | null = null;
    let url: URL | null = null;
    try {
      if (!match || !linkName) throw new DomainError(ErrorCodes.notFound, 'Call /v1/proxy/{link name}/{path of the API}.');
      ({ actor } = await authenticate(this.apiKeys, req.headers, 'member'));
      let target = await this.targets.resolve(actor, linkName);
      url = this.settings.destinations.append(target, match[2] || '/', match[3] ?? '');
      const body = await this.readBody(req, target);
      // Reading a body takes as long as the caller likes: the credential may have been revoked meanwhile.
      if (body !== STREAMED && body.length > 0) target = await this.targets.confirm(actor, target);
      let upstream = await this.send(req, target, url, body);
      if (upstream.statusCode === 401 && target.injection.kind === 'oauth2' && body !== STREAMED) {
        const fresh = await this.targets.refreshed(actor, target);
        if (fresh) {
          upstream.resume();
          target = fresh;
          upstream = await this.send(req, target, url, body);
        }
      }
      for (let attempt = 0, delay; body !== STREAMED && (delay = retryDelay(this.settings.retry, method, upstream.statusCode ?? 0, upstream.headers, attempt)) !== null; attempt++) {
        upstream.resume();
        await sleep(delay);
        target = await this.targets.confirm(actor, target);
        upstream = await this.send(req, target, url, body);
      }
      this.log.record({ entry: 'proxy', actor, connection: linkName, method, url, status: upstream.statusCode ?? null, errorCode: null, started });
      await this.relay(upstream, res);
    } catch (error) {
      const failure = error instanceof DomainError ? error.toBody() : null;
      if (!failure) this.logger.error({ err: error, reqId: requestIdOf(req) }, 'proxy call failed');
      if (!res.headersSent) {
        this.log.record({ entry: 'proxy', actor, connection: linkName, method, url, status: null, errorCode: failure?.code ?? ErrorCodes.internal, started });
        answer(res, failure ?? { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' });
      } else res.destroy();
      req.resume();
    }
  }

  /** The body read whole (small, or a form the credential covers), or left to stream to the API as it comes. */
  private async readBody(req: IncomingMessage, target: InvokeTarget): Promise<Buffer | typeof STREAMED> {
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared === null && req.headers['transfer-encoding'] === undefined) return Buffer.alloc(0);
    if (declared !== null && declared > this.settings.maxStreamBytes) throw tooLarge(this.settings.maxStreamBytes);
    if (isFormContentType(req.headers['content-type']) && coversForm(target.injection)) return readWhole(req, MAX_SIGNED_FORM_BYTES);
    if (declared !== null && declared <= REPLAYABLE_BYTES) return readWhole(req, REPLAYABLE_BYTES);
    return STREAMED;
  }

  /** Sends the request on; resolves once the API's answer has begun. */
  private send(req: IncomingMessage, target: InvokeTarget, url: URL, body: Buffer | typeof STREAMED): Promise<IncomingMessage> {
    const method = req.method ?? 'GET';
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
    const transport = transportFor(url);
    return new Promise((resolve, reject) => {
      const call = transport.request(injected.url, { method, headers: injected.headers, agent: transport.agent, lookup: this.settings.lookup, timeout: this.settings.timeoutMs }, resolve);
      call.on('timeout', () => call.destroy(timeoutError(this.settings.timeoutMs)));
      call.on('error', (error) => reject(upstreamError(error, url)));
      if (body !== STREAMED) return void call.end(payload ?? undefined);
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.settings.maxStreamBytes) call.destroy(tooLarge(this.settings.maxStreamBytes));
      });
      // A caller that goes away mid-upload must not leave a half request open at the API.
      req.on('close', () => !req.complete && call.destroy());
      req.pipe(call);
    });
  }

  /** The API's answer, streamed back as it comes, cut off past the size limit. */
  private relay(upstream: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: OutgoingHttpHeaders = forwardable(upstream.headers, { fromCaller: false });
    if (upstream.headers['set-cookie']) headers['set-cookie'] = upstream.headers['set-cookie'];
    res.writeHead(upstream.statusCode ?? 502, headers);
    let size = 0;
    upstream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.settings.maxStreamBytes) upstream.destroy(new DomainError(ErrorCodes.upstreamTooLarge, `The API's answer is larger than ${this.settings.maxStreamBytes} bytes.`));
    });
    // pipe rather than stream.pipeline: pipeline costs an AbortController (and a DOMException) per call.
    return new Promise((resolve, reject) => {
      upstream.on('error', reject);
      res.on('close', () => {
        if (!upstream.complete) upstream.destroy();
        resolve();
      });
      upstream.pipe(res);
    });
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
