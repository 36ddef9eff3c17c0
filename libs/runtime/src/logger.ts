import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * Paths pino blanks out before a line is written. Secrets should never reach a log call in the first place; this
 * is the second line of defence for the fields that carry them.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.tokenSecret',
  '*.password',
  '*.clientSecret',
  '*.consumerSecret',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
  '*.values',
  '*.apiKey',
];

/** JSON lines on stdout (or `destination`, which tests use to read what was logged). */
export function createLogger(app: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options = {
    name: app,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // A URL's query string can hold a token (access_token=, code=, state=): logged URLs keep their path only.
    serializers: { url: (url: unknown) => String(url).split('?')[0] },
    base: { app },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's own messages (module wiring, routes) go through the same structured logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
