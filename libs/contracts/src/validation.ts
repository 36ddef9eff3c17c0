import type { z } from 'zod';
import { DomainError, ErrorCodes, type FieldIssue } from './errors';
import { LINK_NAME_PATTERN } from './link-names';

/**
 * Parses a payload against its contract. A failure becomes a `validation_failed` DomainError whose sentence names
 * each offending field, so the same words reach an HTTP caller and a NATS caller.
 */
/** `validation_failed` for one field, in the same words parseOrThrow uses. */
export function invalidField(path: string, message: string): DomainError {
  return new DomainError(ErrorCodes.validationFailed, `The request is not valid. ${path}: ${message}.`, [{ path, message }]);
}

/** List cursors are the last link name of a page, opaque to callers. */
export function encodeLinkNameCursor(linkName: string): string {
  return Buffer.from(linkName).toString('base64url');
}

/** The link name a cursor stands for ('' for none); a cursor this API did not give out is validation_failed. */
export function decodeLinkNameCursor(cursor: string | undefined): string {
  if (!cursor) return '';
  const linkName = Buffer.from(cursor, 'base64url').toString();
  if (!LINK_NAME_PATTERN.test(linkName)) throw invalidField('cursor', 'not a cursor this API gave out; start again without it');
  return linkName;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const details: FieldIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  const sentence = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  throw new DomainError(ErrorCodes.validationFailed, `The request is not valid. ${sentence}.`, details);
}
