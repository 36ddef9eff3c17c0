import 'reflect-metadata';
import path from 'node:path';
import { ConfigError, createLogger, publicUrlOf } from '@plugboard/runtime';
import { embeddedConfig, ensureAdminKey, masterKey, startAllApps } from './embedded';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm start`: all of Plugboard in one process. With no DATABASE_URL it runs its own PostgreSQL under
 * ./.plugboard; with no NATS_URL the apps talk over an in-process bus.
 */
async function main(): Promise<void> {
  const home = path.resolve(process.env.PLUGBOARD_HOME ?? '.plugboard');
  const logger = createLogger('plugboard', process.env.LOG_LEVEL ?? 'info');
  const postgres = process.env.DATABASE_URL ? null : await startEmbeddedPostgres(home, logger);
  const databaseUrl = postgres?.url ?? (process.env.DATABASE_URL as string);
  let config;
  try {
    config = embeddedConfig(process.env, databaseUrl, masterKey(home, process.env, logger));
  } catch (error) {
    await postgres?.stop();
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const system = await startAllApps(config, logger);
  const admin = await ensureAdminKey(config, home);
  const publicUrl = publicUrlOf(config);
  process.stdout.write(
    [
      '',
      `Plugboard is running at ${publicUrl} (API docs: ${publicUrl}/docs)`,
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
    await system.close();
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

main().catch((error) => {
  process.stderr.write(`Plugboard could not start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
