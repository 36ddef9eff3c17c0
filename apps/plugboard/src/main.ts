import 'reflect-metadata';
import path from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, createLogger, publicUrlOf } from '@plugboard/runtime';
import { MasterKeyMismatchError } from '@plugboard/vault';
import { embeddedConfig, ensureAdminKey, masterKey, migrateAll, startAllApps } from './embedded';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm start`: all of Plugboard in one process. With no DATABASE_URL it runs its own PostgreSQL under
 * ./.plugboard; with no NATS_URL the apps talk over an in-process bus.
 */
async function main(): Promise<void> {
  const home = path.resolve(process.env.PLUGBOARD_HOME ?? '.plugboard');
  const logger = createLogger('plugboard', process.env.LOG_LEVEL ?? 'info');
  let postgres: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
  let system: Awaited<ReturnType<typeof startAllApps>> | undefined;
  let config;
  let admin;
  try {
    postgres = process.env.DATABASE_URL ? null : await startEmbeddedPostgres(home, logger);
    const databaseUrl = postgres?.url ?? (process.env.DATABASE_URL as string);
    config = embeddedConfig(process.env, databaseUrl, masterKey(home, process.env, logger));
    await migrateAll(config);
    // The key file is there before anything answers: a script that waits for /health reads it at once.
    admin = await ensureAdminKey(config, home);
    system = await startAllApps(config, logger);
  } catch (error) {
    // Left running, our PostgreSQL would hold the data folder after this process is gone.
    await system?.close().catch((closeError: unknown) => logger.warn({ err: closeError }, 'could not stop the apps'));
    await postgres?.stop().catch((stopError: unknown) => logger.warn({ err: stopError }, 'could not stop the embedded PostgreSQL'));
    throw error;
  }
  const running = system;
  const publicUrl = publicUrlOf(config);
  process.stdout.write(
    [
      '',
      `Plugboard is running at ${publicUrl} (API docs: ${publicUrl}/docs)`,
      `Open the console (this link signs you in as "admin" once, within 15 minutes; npm run keys -- sign-in-link makes another):`,
      `  ${admin.signInLink}`,
      admin.created ? `Admin API key for org "default" (also written to ${admin.file}):` : `Admin API key for org "default" (from ${admin.file}):`,
      `  ${admin.key}`,
      `Try: curl -H "Authorization: Bearer $(cat ${path.relative(process.cwd(), admin.file)})" ${publicUrl}/v1/services/<linkName>`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await running.close();
    await postgres?.stop();
    process.exit(0);
  };
  // embedded-postgres (through async-exit-hook) stops PostgreSQL and exits on these signals by itself, racing the apps'
  // own shutdown; this process stops things in order instead: apps first, then PostgreSQL.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * Why the start failed, in full: a refusal's sentence as it is; any other Error with its stack, its cause chain and
 * its fields (a PostgreSQL error's code and detail); and anything else thrown shown as what it is, never "undefined".
 */
function startFailure(error: unknown): string {
  if (error instanceof ConfigError || error instanceof MasterKeyMismatchError) return error.message;
  if (error instanceof Error) return inspect(error, { depth: 5, breakLength: Infinity });
  return `${inspect(error, { depth: 5, breakLength: Infinity })} was thrown (a ${error === null ? 'null' : typeof error}, not an Error, so there is no stack to show)`;
}

main().catch((error: unknown) => {
  process.stderr.write(`Plugboard could not start: ${startFailure(error)}\n`);
  process.exit(1);
});
