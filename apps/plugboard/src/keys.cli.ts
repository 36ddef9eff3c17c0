import 'reflect-metadata';
import path from 'node:path';
import { runKeysCommand } from '@plugboard/gateway';
import { createLogger } from '@plugboard/runtime';
import { openEmbeddedDatabase } from './embedded-postgres';

/**
 * `npm run keys -- create --org acme --role admin [--user u]` and `npm run keys -- sign-in-link`: on DATABASE_URL
 * when set, else on the embedded database of `npm start` (running or not), with nothing else to set.
 */
runKeysCommand(process.argv.slice(2), async () => {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, close: async () => undefined };
  return openEmbeddedDatabase(path.resolve(process.env.PLUGBOARD_HOME ?? '.plugboard'), createLogger('keys', process.env.LOG_LEVEL ?? 'warn', process.stderr));
}).then((code) => process.exit(code));
