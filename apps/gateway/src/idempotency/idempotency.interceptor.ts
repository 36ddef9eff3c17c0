import { Inject, Injectable, Optional, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DomainError, ErrorCodes, HTTP_STATUS, type Actor } from '@plugboard/contracts';
import { BUS_MARGIN_MS, RPC_DEADLINES, type RpcDeadlines } from '@plugboard/messaging';
import { LOGGER } from '@plugboard/runtime';
import { sha256, type IdempotencyStore, type KeyedRequest, type StoredAnswer } from './idempotency.store';

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');

const HEADER = 'idempotency-key';
/** Printable ASCII without spaces, as UUIDs and the keys of common SDKs are. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const COMMAND_METHODS = new Set(['POST', 'PATCH', 'DELETE']);
/** Without the platform's deadlines (a gateway built by hand): a minute, longer than any command runs. */
const FALLBACK_COMMAND_MS = 60_000;

/** Routes whose answer is not kept, so a key there is refused rather than silently doing nothing. */
const NOT_KEPT: Record<string, string> = {
  'POST /v1/keys': 'its answer holds the new API key, which Plugboard keeps only as a hash',
  'POST /v1/webhook/rotate-secret': 'its answer holds the new signing secret',
  'POST /v1/connect-links': 'its answer holds the link, which Plugboard keeps only as a hash',
  'POST /v1/invoke': 'its answer is the API’s; pass the API’s own idempotency header in the call’s headers',
};

/**
 * `Idempotency-Key` on the REST commands (POST, PATCH, DELETE under /v1): the first request with a key runs and its
 * answer is kept 24 hours (per org); a repeat with the same request (method, path, user and body) gets that answer
 * back with the same status and `Idempotent-Replayed: true`, and changes nothing. The same key with another request
 * is `409 idempotency_key_reused`; a repeat while the first is still running is `409 idempotency_key_in_progress`.
 *
 * Kept: every 2xx and 4xx, since the command's outcome is settled. Not kept: a 5xx, whose outcome is unknown
 * (`timeout`) or which did nothing (`verification_unreachable`, `internal_error`): the key is released and a repeat
 * runs the command again. Nor an answer that holds an OAuth authorization link: its `state` is stored only hashed
 * elsewhere, and starting another authorization changes nothing.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(RPC_DEADLINES) private readonly deadlines?: RpcDeadlines,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & { actor?: Actor }>();
    const key = req.headers[HEADER];
    if (key === undefined || !COMMAND_METHODS.has(req.method) || !req.path.startsWith('/v1/') || !req.actor) return next.handle();
    return from(this.run(req, context.switchToHttp().getResponse<Response>(), key, req.actor, next));
  }

  private async run(req: Request, res: Response, key: string | string[], actor: Actor, next: CallHandler): Promise<unknown> {
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new DomainError(ErrorCodes.idempotencyKeyInvalid, 'The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces, such as a UUID.');
    }
    const route = `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`;
    if (NOT_KEPT[route]) throw new DomainError(ErrorCodes.idempotencyKeyNotSupported, `${route} does not take an Idempotency-Key: ${NOT_KEPT[route]}.`);
    const request: KeyedRequest = { orgId: actor.orgId, key, requestHash: sha256(JSON.stringify([req.method, req.originalUrl, actor.userId, req.body ?? null])) };
    // Longer than any command may run: past it, the gateway that claimed the key has died and a repeat may run.
    const claim = await this.store.claim(request, (this.deadlines?.longestCommandMs ?? FALLBACK_COMMAND_MS) + BUS_MARGIN_MS);
    switch (claim.outcome) {
      case 'reused':
        throw new DomainError(ErrorCodes.idempotencyKeyReused, 'This Idempotency-Key was used in the last 24 hours for another request (route, user or body). Use a new key for a new request.');
      case 'in_progress':
        res.setHeader('retry-after', '1');
        throw new DomainError(ErrorCodes.idempotencyKeyInProgress, 'A request with this Idempotency-Key is still running. Repeat it once that one has answered.');
      case 'replay':
        res.setHeader('idempotent-replayed', 'true');
        res.status(claim.answer.status);
        return claim.answer.body === null ? undefined : JSON.parse(claim.answer.body);
      case 'claimed':
        return this.runClaimed(request, res, next);
    }
  }

  private async runClaimed(request: KeyedRequest, res: Response, next: CallHandler): Promise<unknown> {
    let answer: unknown;
    try {
      answer = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const status = error instanceof DomainError ? HTTP_STATUS[error.code] : 500;
      if (error instanceof DomainError && status < 500) await this.settle(request, { status, body: JSON.stringify({ error: error.toBody() }) });
      else await this.settle(request, null);
      throw error;
    }
    if (holdsAuthorizationLink(answer)) await this.settle(request, null);
    else await this.settle(request, { status: res.statusCode, body: answer === undefined || answer === null ? null : JSON.stringify(answer) });
    return answer;
  }

  /**
   * Keeps the answer (or releases the key, for null). A failure here must not turn the command's own answer into
   * an error: the key then stays in progress until its lock runs out, and the caller still learns what happened.
   */
  private async settle(request: KeyedRequest, answer: StoredAnswer | null): Promise<void> {
    try {
      if (answer) await this.store.complete(request, answer);
      else await this.store.release(request);
    } catch (error) {
      this.logger.warn({ orgId: request.orgId, err: error instanceof Error ? error.message : String(error) }, 'could not record the answer to an idempotency key');
    }
  }
}

function holdsAuthorizationLink(answer: unknown): boolean {
  return typeof answer === 'object' && answer !== null && 'authorizeUrl' in answer;
}
