import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { DomainError, ErrorCodes, type ErrorBody } from '@plugboard/contracts';

/**
 * Turns what a message handler throws into the wire error: a DomainError keeps its code and sentence; anything else
 * is logged here and leaves as `internal_error` with no detail, since its text could hold a secret.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly log: (error: unknown, context: { correlationId?: string }) => void) {}

  catch(exception: unknown, host?: ArgumentsHost): Observable<ErrorBody> {
    if (exception instanceof DomainError) return throwError(() => exception.toBody());
    // The gateway's request id travels as the actor's correlation id: logged with it, a failure can be found by it.
    const correlationId = (host?.switchToRpc().getData() as { actor?: { correlationId?: unknown } } | undefined)?.actor?.correlationId;
    this.log(exception, typeof correlationId === 'string' ? { correlationId } : {});
    return throwError(() => ({ code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' }));
  }
}
