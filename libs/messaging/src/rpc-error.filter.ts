import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { DomainError, ErrorCodes, type ErrorBody } from '@plugboard/contracts';

/**
 * Turns what a message handler throws into the wire error: a DomainError keeps its code and sentence; anything else
 * is logged here and leaves as `internal_error` with no detail, since its text could hold a secret.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly log: (error: unknown) => void) {}

  catch(exception: unknown): Observable<ErrorBody> {
    if (exception instanceof DomainError) return throwError(() => exception.toBody());
    this.log(exception);
    return throwError(() => ({ code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' }));
  }
}
