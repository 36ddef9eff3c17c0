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

/** What a keyed command came to: its own answer, or the one kept for its key (with the status it was answered with). */
export type KeyedAnswer = { replayed: false; answer: unknown } | { replayed: true; status: number; body: unknown };

/** One command presenting an Idempotency-Key. */
export interface KeyedCommand {
  key: unknown;
  /** The REST route it is (`POST /v1/invoke`), for the routes whose answer is not kept. */
  route: string;
  actor: Actor;
  /** What makes a repeat the same request (transport, route, user and body): only its hash is kept. */
  fingerprint: unknown[];
}

/** Whether a request of this HTTP method is a command an Idempotency-Key applies to (others pass it by). */
export function takesIdempotencyKey(method: string): boolean {
  return COMMAND_METHODS.has(method);
}

/**
 * `Idempotency-Key` on commands, for any transport: the first request with a key runs and its answer is kept 24 hours
 * (per org); a repeat with the same request (route, user and body) gets that answer back with the same status and
 * changes nothing. The same key with another request is `idempotency_key_reused`; a repeat while the first is still
 * running is `idempotency_key_in_progress`.
 *
 * Kept: every 2xx and 4xx, since the command's outcome is settled. Not kept: a 5xx, whose outcome is unknown
 * (`timeout`) or which did nothing (`verification_unreachable`, `internal_error`): the key is released and a repeat
 * runs the command again. Nor an answer that holds an OAuth authorization link: its `state` is stored only hashed
 * elsewhere, and starting another authorization changes nothing.
 */
@Injectable()
export class IdempotentCommands {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(RPC_DEADLINES) private readonly deadlines?: RpcDeadlines,
  ) {}

  /** Runs `command` under the key; `status` tells the status of its success once it has run. */
  async run(command: KeyedCommand, run: () => Promise<unknown>, status: () => number): Promise<KeyedAnswer> {
    const { key, route, actor } = command;
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw new DomainError(ErrorCodes.idempotencyKeyInvalid, 'The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces, such as a UUID.');
    }
    if (NOT_KEPT[route]) throw new DomainError(ErrorCodes.idempotencyKeyNotSupported, `${route} does not take an Idempotency-Key: ${NOT_KEPT[route]}.`);
    const request: KeyedRequest = { orgId: actor.orgId, key, requestHash: sha256(JSON.stringify(command.fingerprint)) };
    // Longer than any command may run: past it, the gateway that claimed the key has died and a repeat may run.
    const claim = await this.store.claim(request, (this.deadlines?.longestCommandMs ?? FALLBACK_COMMAND_MS) + BUS_MARGIN_MS);
    switch (claim.outcome) {
      case 'reused':
        throw new DomainError(ErrorCodes.idempotencyKeyReused, 'This Idempotency-Key was used in the last 24 hours for another request (route, user or body). Use a new key for a new request.');
      case 'in_progress':
        throw new DomainError(ErrorCodes.idempotencyKeyInProgress, 'A request with this Idempotency-Key is still running. Repeat it once that one has answered.');
      case 'replay':
        return { replayed: true, status: claim.answer.status, body: claim.answer.body === null ? undefined : JSON.parse(claim.answer.body) };
      case 'claimed':
        return { replayed: false, answer: await this.runClaimed(request, run, status) };
    }
  }

  private async runClaimed(request: KeyedRequest, run: () => Promise<unknown>, status: () => number): Promise<unknown> {
    let answer: unknown;
    try {
      answer = await run();
    } catch (error) {
      const failed = error instanceof DomainError ? HTTP_STATUS[error.code] : 500;
      if (error instanceof DomainError && failed < 500) await this.settle(request, { status: failed, body: JSON.stringify({ error: error.toBody() }) });
      else await this.settle(request, null);
      throw error;
    }
    if (holdsAuthorizationLink(answer)) await this.settle(request, null);
    else await this.settle(request, { status: status(), body: answer === undefined || answer === null ? null : JSON.stringify(answer) });
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

/** `Idempotency-Key` on the REST commands (POST, PATCH, DELETE under /v1), as IdempotentCommands keeps them; a replay says `Idempotent-Replayed: true`. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly commands: IdempotentCommands) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & { actor?: Actor }>();
    const key = req.headers[HEADER];
    if (key === undefined || !takesIdempotencyKey(req.method) || !req.path.startsWith('/v1/') || !req.actor) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    const command: KeyedCommand = {
      key,
      route: `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`,
      actor: req.actor,
      fingerprint: [req.method, req.originalUrl, req.actor.userId, req.body ?? null],
    };
    return from(
      this.commands.run(command, () => lastValueFrom(next.handle(), { defaultValue: undefined }), () => res.statusCode).then(
        (keyed) => {
          if (!keyed.replayed) return keyed.answer;
          res.setHeader('idempotent-replayed', 'true');
          res.status(keyed.status);
          return keyed.body;
        },
        (error: unknown) => {
          if (error instanceof DomainError && error.code === ErrorCodes.idempotencyKeyInProgress) res.setHeader('retry-after', '1');
          throw error;
        },
      ),
    );
  }
}

function holdsAuthorizationLink(answer: unknown): boolean {
  return typeof answer === 'object' && answer !== null && 'authorizeUrl' in answer;
}
