import { DomainError, ErrorCodes } from '@plugboard/contracts';

/** Two writers raced on one stream and this one lost: nothing of it was recorded. */
export class WrongExpectedVersionError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number | null,
  ) {
    super(ErrorCodes.concurrencyConflict, `The record was changed by someone else at the same time (expected version ${expected}${actual === null ? '' : `, found ${actual}`}). Read it again and retry.`);
  }
}

/** The SQLSTATE of a PostgreSQL error, from pg directly or wrapped by TypeORM. */
export function postgresErrorCode(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } } | undefined;
  return e?.code ?? e?.driverError?.code;
}
