import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { DomainError, ErrorCodes, HTTP_STATUS, type ErrorBody, type ErrorCode } from '@plugboard/contracts';
import { requestIdOf } from '@plugboard/runtime';

const FROM_HTTP: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCodes.validationFailed,
  [HttpStatus.UNAUTHORIZED]: ErrorCodes.unauthenticated,
  [HttpStatus.FORBIDDEN]: ErrorCodes.forbidden,
  [HttpStatus.NOT_FOUND]: ErrorCodes.notFound,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCodes.payloadTooLarge,
};

/** Every error leaves the gateway as `{error: {code, message}}` with the status its code stands for. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const body = this.toBody(exception, requestIdOf(http.getRequest<Request>()));
    response.status(HTTP_STATUS[body.code]).json({ error: body });
  }

  /** An unexpected error is logged under the request id the caller got back, so a report can be matched to it. */
  private toBody(exception: unknown, reqId: string | undefined): ErrorBody {
    if (exception instanceof DomainError) return exception.toBody();
    if (exception instanceof HttpException) {
      const code = FROM_HTTP[exception.getStatus()];
      if (code) return { code, message: sentence(exception.message) };
    }
    this.logger.error({ err: exception, reqId }, 'request failed');
    return { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' };
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
