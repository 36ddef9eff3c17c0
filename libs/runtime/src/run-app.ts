import type { Logger } from 'pino';
import { ConfigError, loadConfig, type PlatformConfig, type RequiredVariable } from './config';
import { runMigrations, waitForMigrations } from './database';
import { startHealthServer } from './health-server';
import { createLogger } from './logger';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Migrations = Function[];

/** How long an app waits for `npm run migrate` (the migration Job) before it gives up. */
const MIGRATION_WAIT_MS = 10 * 60_000;

export interface AppDefinition {
  name: string;
  migrations: Migrations;
  required: RequiredVariable[];
  /** Starts the app; `close` must stop taking work, finish what is in flight, and release what it holds. */
  start(config: PlatformConfig, logger: Logger): Promise<{ close(): Promise<void> }>;
}

/**
 * The main of a process in distributed mode: check the configuration (and stop with a message naming what is
 * wrong), wait for the migrations (or apply them with PLUGBOARD_MIGRATE_ON_START), start, and on SIGINT or SIGTERM
 * stop gracefully within PLUGBOARD_SHUTDOWN_TIMEOUT_MS, exiting 0 once everything in flight is done.
 */
export async function runApp(app: AppDefinition, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: PlatformConfig;
  try {
    config = loadConfig(env, app.required);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${app.name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(app.name, config.LOG_LEVEL);
  try {
    const health = config.HEALTH_PORT === undefined ? null : await startHealthServer(config.HEALTH_PORT);
    if (config.PLUGBOARD_MIGRATE_ON_START) {
      await runMigrations(config.DATABASE_URL, app.migrations);
    } else {
      await waitForMigrations(config.DATABASE_URL, app.migrations, {
        timeoutMs: MIGRATION_WAIT_MS,
        onWaiting: (pending) => logger.warn({ pending }, `${app.name} waits for its migrations: run \`npm run migrate\` (the migration Job), or set PLUGBOARD_MIGRATE_ON_START=true`),
      });
    }
    const running = await app.start(config, logger);
    health?.setReady(true);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      health?.setReady(false);
      logger.info({ signal }, `${app.name} is stopping`);
      // A handler that never ends must not keep the process from going away.
      setTimeout(() => {
        logger.error({ timeoutMs: config.PLUGBOARD_SHUTDOWN_TIMEOUT_MS }, `${app.name} did not finish its work in flight in time; exiting anyway`);
        process.exit(1);
      }, config.PLUGBOARD_SHUTDOWN_TIMEOUT_MS).unref();
      try {
        await running.close();
        await health?.close();
      } catch (error) {
        logger.error({ err: error }, `${app.name} could not stop cleanly`);
        process.exit(1);
      }
      logger.info(`${app.name} stopped`);
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  } catch (error) {
    logger.fatal({ err: error }, `${app.name} could not start`);
    process.exit(1);
  }
}
