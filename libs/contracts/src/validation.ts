import type { z } from 'zod';
import { DomainError, ErrorCodes, type FieldIssue } from './errors';

/**
 * Parses a payload against its contract. A failure becomes a `validation_failed` DomainError whose sentence names
 * each offending field, so the same words reach an HTTP caller and a NATS caller.
 */
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
