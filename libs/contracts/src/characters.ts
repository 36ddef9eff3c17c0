import { z } from 'zod';
import { DomainError, ErrorCodes } from './errors';

/**
 * What an HTTP field value may hold (RFC 9110 §5.5): tab, space, visible ASCII and obs-text (Latin-1). Node refuses
 * to send anything else, so a value outside it must be refused when it arrives, not when the call goes out.
 */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** C0 controls and DEL: line breaks and NUL among them. PostgreSQL text cannot hold a NUL at all. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

/** Whether `value` can be sent as an HTTP header value as it is. */
export function isHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** Whether `value` holds a control character (NUL, a line break, DEL…). */
export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

export const HEADER_VALUE_RULE = 'must hold only characters an HTTP header can carry: no control characters or line breaks, nothing past Latin-1';

/** A header value a caller asks Plugboard to send. */
export const HeaderValueSchema = z.string().max(8192).refine(isHeaderValue, HEADER_VALUE_RULE);

/** A secret typed by a person (Basic username or password): any text but control characters. */
export const SecretTextSchema = z.string().refine((value) => !hasControlCharacter(value), 'must not hold control characters or line breaks');

/**
 * An API key parameter value. It may go into a header, so it follows the header rule, without tab: keys are tokens,
 * and a tab in one is a copy-and-paste accident.
 */
export const ApiKeyValueSchema = z.string().refine((value) => isHeaderValue(value) && !value.includes('\t'), 'must hold only printable characters an HTTP header can carry: no control characters or line breaks, nothing past Latin-1');

/**
 * Why a request target (path and query, still percent-encoded) is refused, or null. No route of Plugboard takes a
 * control character in its path or query, nor a path that is not valid UTF-8 percent-encoding. `apiQuery` marks a
 * query that belongs to a third-party API (/v1/proxy): a line break there is ordinary text, so only NUL is refused.
 */
export function requestTargetProblem(target: string, { apiQuery = false }: { apiQuery?: boolean } = {}): string | null {
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const query = mark < 0 ? '' : target.slice(mark + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'The request path is not valid percent-encoded UTF-8.';
  }
  if (CONTROL.test(decoded)) return 'The request path holds control characters (such as NUL or a line break), which no route takes.';
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const nul = apiQuery ? /%00|\x00/ : /%[01][0-9a-f]|%7f|[\x00-\x1f\x7f]/i;
  if (nul.test(query)) return 'The query string holds control characters (such as NUL or a line break), which no route takes.';
  return null;
}

/** Deeper than any request needs (an invoke's body to an API included), far below what recursion survives. */
export const MAX_PAYLOAD_DEPTH = 64;

export type PayloadProblem = 'too_deep' | 'nul';

/**
 * Why a parsed payload (a message on the bus) is refused, or null: nested deeper than `maxDepth` (every later walk
 * over it — validation, serialization — recurses and would overflow the stack), or a string, key or value, holding a
 * NUL, which PostgreSQL cannot store in text or jsonb. The gateway finds the same in raw JSON before parsing it.
 */
export function payloadProblem(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH, depth = 0): PayloadProblem | null {
  if (typeof value === 'string') return value.includes('\0') ? 'nul' : null;
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= maxDepth) return 'too_deep';
  for (const key in value) {
    if (key.includes('\0')) return 'nul';
    const problem = payloadProblem((value as Record<string, unknown>)[key], maxDepth, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** The refusal of a payload `payloadProblem` (or the gateway's raw check) found fault with. */
export function refusedPayload(problem: PayloadProblem): DomainError {
  return problem === 'too_deep'
    ? new DomainError(ErrorCodes.tooDeeplyNested, `The request nests objects or arrays more than ${MAX_PAYLOAD_DEPTH} levels deep.`)
    : new DomainError(ErrorCodes.invalidCharacters, 'The request holds a NUL character (\\u0000) in a string, which no field takes.');
}
