import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { ErrorCodes, HTTP_STATUS, MAX_PAYLOAD_DEPTH, refusedPayload, type ErrorBody, type PayloadProblem } from '@plugboard/contracts';


const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

/**
 * Why a JSON body is refused before it is parsed, or null: nested deeper than `maxDepth` (parsing it is cheap, but
 * every later walk over it — validation, serialization onto the bus — recurses and would overflow the stack), or
 * holding an escaped NUL (`\u0000`), which PostgreSQL cannot store in text or jsonb. One pass over the raw bytes;
 * the structural characters are ASCII, so UTF-8 sequences never look like them.
 */
export function jsonBodyProblem(body: Buffer, maxDepth = MAX_PAYLOAD_DEPTH): PayloadProblem | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === QUOTE) inString = false;
      else if (byte === BACKSLASH) {
        if (body[i + 1] === 0x75 && body[i + 2] === 0x30 && body[i + 3] === 0x30 && body[i + 4] === 0x30 && body[i + 5] === 0x30) return 'nul';
        i++; // the escaped character, a quote or a backslash among them, is not structure
      }
    } else if (byte === QUOTE) inString = true;
    else if (OPENERS.has(byte)) {
      if (++depth > maxDepth) return 'too_deep';
    } else if (CLOSERS.has(byte)) depth--;
  }
  return null;
}

class RefusedBody extends Error {
  constructor(
    readonly type: string,
    readonly refusal: ErrorBody,
  ) {
    super(refusal.message);
  }
}

function checkBeforeParsing(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  const problem = jsonBodyProblem(body);
  if (problem) throw new RefusedBody('entity.refused', refusedPayload(problem).toBody());
}

/** JSON bodies up to 1 MiB; anything larger, malformed, too deep or with a NUL is refused with our error shape before any route runs. */
export function jsonBody(): RequestHandler[] {
  return [express.json({ limit: '1mb', verify: checkBeforeParsing })];
}

export const jsonBodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') {
    res.status(HTTP_STATUS.malformed_json).json({ error: { code: ErrorCodes.malformedJson, message: 'The request body is not valid JSON.' } });
  } else if (type === 'entity.too.large') {
    res.status(HTTP_STATUS.payload_too_large).json({ error: { code: ErrorCodes.payloadTooLarge, message: 'The request body is larger than 1 MiB.' } });
  } else if (type === 'entity.refused' && error instanceof RefusedBody) {
    res.status(HTTP_STATUS[error.refusal.code]).json({ error: error.refusal });
  } else {
    next(error);
  }
};
