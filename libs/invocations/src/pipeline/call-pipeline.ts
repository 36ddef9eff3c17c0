import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { ConnectionCredentials, type InvokeTarget } from '@plugboard/connections';
import { DomainError, ErrorCodes, type Actor } from '@plugboard/contracts';
import { InvocationLog, type Invocation } from '../invocation-log';
import { InvokeSettings } from '../invoke-settings';
import { retryDelay } from '../upstream/retry-policy';

/**
 * Where a call goes: a URL absolute or relative to the service's base URL (`POST /v1/invoke`), or a path and query
 * appended to the base URL (`/v1/proxy`: appending, never resolving, keeps `//other.host/…` a path on the service's host).
 */
export type CallAddress = { url: string; query?: Record<string, string> } | { path: string; search: string };

/** One call as its entry hands it to the pipeline. */
export interface Call {
  entry: Invocation['entry'];
  actor: Actor;
  /** The connection's link name. */
  connection: string;
  method: string;
  address: CallAddress;
  /** When the call arrived (Date.now()), for the log's latency. */
  started: number;
}

/**
 * How the request goes out and the API's answer comes back: the only part the entries do differently (the buffered
 * `POST /v1/invoke` and the streaming `/v1/proxy`). One per call; `Answer` is the API's answer as the send step
 * gives it, `Result` what the entry's caller gets.
 */
export interface CallTransport<Answer, Result> {
  /**
   * Readies the request for `target` before its first send: false when there was nothing to wait for, else a
   * promise of whether it took the caller's time (the proxy reading a body), so the credential is confirmed again.
   */
  prepare(target: InvokeTarget): false | Promise<boolean>;
  /** False once the request cannot be sent twice (a body streamed as it arrives): then no refresh-and-retry and no retries. */
  readonly replayable: boolean;
  /** Sends the request with `target`'s credential; resolves with the API's answer (or its beginning). */
  send(target: InvokeTarget, url: URL): Promise<Answer>;
  status(answer: Answer): number;
  headers(answer: Answer): IncomingHttpHeaders | Record<string, string>;
  /** An answer that is not passed on (a 401 before a refresh, a 429 before a retry): what is left of it is dropped. */
  discard(answer: Answer): void;
  /** Passes the final answer on to the caller; it has been recorded already. */
  deliver(answer: Answer): Result | Promise<Result>;
}

/** The stable error code of a failed call: a DomainError's own, else `internal`. */
export function errorCodeOf(error: unknown): string {
  return error instanceof DomainError ? error.code : ErrorCodes.internal;
}

/**
 * The one call pipeline (`POST /v1/invoke`, the bus's `invoke.request` that gRPC and MCP use, and `/v1/proxy`):
 * resolve the connection's target and credential, check the destination, send, refresh once after a 401 and send
 * again, retry an idempotent call after a 429 or 502–504 when configured, and record the call in the invocation log.
 */
@Injectable()
export class CallPipeline {
  constructor(
    private readonly targets: ConnectionCredentials,
    private readonly settings: InvokeSettings,
    private readonly log: InvocationLog,
  ) {}

  async run<Answer, Result>(call: Call, transport: CallTransport<Answer, Result>): Promise<Result> {
    const { actor, method } = call;
    let url: URL | null = null;
    let answer: Answer;
    try {
      let target = await this.targets.forCall(actor, call.connection);
      url = this.destination(target, call.address);
      const preparing = transport.prepare(target);
      // Reading a body takes as long as the caller likes: the credential may have been revoked meanwhile.
      if (preparing && (await preparing)) target = await this.targets.confirm(actor, target);
      answer = await transport.send(target, url);
      if (transport.status(answer) === 401 && target.injection.kind === 'oauth2' && transport.replayable) {
        const fresh = await this.targets.refreshed(actor, target);
        if (fresh) {
          transport.discard(answer);
          target = fresh;
          answer = await transport.send(target, url);
        }
      }
      for (let attempt = 0, delay; transport.replayable && (delay = retryDelay(this.settings.retry, method, transport.status(answer), transport.headers(answer), attempt)) !== null; attempt++) {
        transport.discard(answer);
        await sleep(delay);
        // The credential may have been revoked while this call waited.
        target = await this.targets.confirm(actor, target);
        answer = await transport.send(target, url);
      }
    } catch (error) {
      this.log.record({ entry: call.entry, actor, connection: call.connection, method, url, status: null, errorCode: errorCodeOf(error), started: call.started });
      throw error;
    }
    // Recorded once the answer has begun: what goes wrong while it is passed on is the caller's to see, not a second record.
    this.log.record({ entry: call.entry, actor, connection: call.connection, method, url, status: transport.status(answer), errorCode: null, started: call.started });
    return transport.deliver(answer);
  }

  /** The call's URL, when the target's credential may be sent there (the egress policy and the service's hosts). */
  private destination(target: InvokeTarget, address: CallAddress): URL {
    return 'path' in address ? this.settings.destinations.append(target, address.path, address.search) : this.settings.destinations.resolve(target, address.url, address.query);
  }
}
