import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { ErrorCodes, HTTP_STATUS } from '@plugboard/contracts';

/** JSON bodies up to 1 MiB; anything larger or malformed is refused with our error shape before any route runs. */
export function jsonBody(): RequestHandler[] {
  return [express.json({ limit: '1mb' })];
}

export const jsonBodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') {
    res.status(HTTP_STATUS.malformed_json).json({ error: { code: ErrorCodes.malformedJson, message: 'The request body is not valid JSON.' } });
  } else if (type === 'entity.too.large') {
    res.status(HTTP_STATUS.payload_too_large).json({ error: { code: ErrorCodes.payloadTooLarge, message: 'The request body is larger than 1 MiB.' } });
  } else {
    next(error);
  }
};
