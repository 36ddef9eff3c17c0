import type { ArgumentsHost } from '@nestjs/common';
import pino from 'pino';
import { DomainError, ErrorCodes } from '@plugboard/contracts';
import { HttpErrorFilter } from './http-error.filter';

/** An Express request and response as Nest hands them to a filter: just what the filter touches. */
function exchange(id: string | undefined) {
  const answer: { status?: number; body?: unknown } = {};
  const response = {
    status(code: number) {
      answer.status = code;
      return this;
    },
    json(body: unknown) {
      answer.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getRequest: () => ({ id }), getResponse: () => response }) } as unknown as ArgumentsHost;
  return { host, answer };
}

describe('the gateway’s error filter', () => {
  const lines: string[] = [];
  const filter = new HttpErrorFilter(pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }));

  it('logs an unexpected error with the request id and answers internal_error without its text', () => {
    const { host, answer } = exchange('req-123');
    filter.catch(new TypeError('Invalid character in header content ["x-api-key"] secret=abc'), host);
    expect(answer).toEqual({ status: 500, body: { error: { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' } } });
    const logged = JSON.parse(lines[lines.length - 1]);
    expect(logged).toMatchObject({ level: 50, reqId: 'req-123', msg: 'request failed' });
    expect(logged.err.message).toContain('Invalid character');
  });

  it('answers a domain error by its code and logs nothing', () => {
    const { host, answer } = exchange('req-124');
    const before = lines.length;
    filter.catch(new DomainError(ErrorCodes.invalidCharacters, 'The request path holds control characters.'), host);
    expect(answer.status).toBe(400);
    expect(lines.length).toBe(before);
  });
});
