import { Inject, Injectable, Optional } from '@nestjs/common';
import { firstValueFrom, timeout as within, TimeoutError } from 'rxjs';
import { DomainError, ErrorCodes, type RpcContracts, type RpcSubject } from '@plugboard/contracts';
import { natsRequests } from '@plugboard/metrics';
import { BUS_MARGIN_MS, RPC_DEADLINES, type RpcDeadlines } from './deadlines';
import type { BusClient } from './transport';

export const RPC_TRANSPORT_CLIENT = Symbol('RPC_TRANSPORT_CLIENT');

/**
 * Sends a typed request to whichever app answers the subject and returns its reply. A remote DomainError comes
 * back as a DomainError with the same code and sentence; a silent or absent app becomes `timeout`/`unavailable`.
 */
@Injectable()
export class RpcClient {
  constructor(
    @Inject(RPC_TRANSPORT_CLIENT) private readonly client: BusClient,
    /** Each subject's deadline (rpcDeadlines); without it, a client that makes no outbound call waits the bus margin twice. */
    @Optional() @Inject(RPC_DEADLINES) private readonly deadlines?: RpcDeadlines,
  ) {}

  async request<S extends RpcSubject>(subject: S, payload: RpcContracts[S]['request'], options: { timeoutMs?: number } = {}): Promise<RpcContracts[S]['response']> {
    const stop = natsRequests.startTimer({ subject });
    try {
      const reply = await firstValueFrom(this.client.send<RpcContracts[S]['response']>(subject, payload).pipe(within(options.timeoutMs ?? this.deadlines?.of(subject) ?? 2 * BUS_MARGIN_MS)));
      stop({ outcome: 'ok' });
      return reply;
    } catch (error) {
      const failure = toDomainError(error, subject);
      stop({ outcome: failure.code });
      throw failure;
    }
  }
}

function toDomainError(error: unknown, subject: string): DomainError {
  if (error instanceof DomainError) return error;
  if (DomainError.isErrorBody(error)) return new DomainError(error.code, error.message, error.details, error.connectLink);
  if (error instanceof TimeoutError) return new DomainError(ErrorCodes.timeout, `The ${appOf(subject)} did not answer in time. Try again.`);
  const text = error instanceof Error ? error.message : String(error);
  if (/no responders|503|empty response|no process answers/i.test(text)) {
    return new DomainError(ErrorCodes.unavailable, `The ${appOf(subject)} is not running or cannot be reached. Try again shortly.`);
  }
  return new DomainError(ErrorCodes.internal, 'Something went wrong on our side. It has been logged.');
}

function appOf(subject: string): string {
  return `${subject.split('.')[0]} service`;
}
