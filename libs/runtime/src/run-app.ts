import type { Logger } from 'pino';
import { ConfigError, loadConfig, type PlatformConfig, type RequiredVariable } from './config';
import { runMigrations } from './database';
import { createLogger } from './logger';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Migrations = Function[];

export interface AppDefinition {
  name: string;
  migrations: Migrations;
  required: RequiredVariable[];
  start(config: PlatformConfig, logger: Logger): Promise<{ close(): Promise<void> }>;
}

/**
 * The main of a process in distributed mode: check the configuration (and stop with a message naming what is
 * wrong), migrate, start, and close cleanly on SIGINT or SIGTERM.
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
    await runMigrations(config.DATABASE_URL, app.migrations);
    const running = await app.start(config, logger);
    const stop = async (signal: string) => {
      logger.info({ signal }, `${app.name} is stopping`);
      await running.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  } catch (error) {
    logger.fatal({ err: error }, `${app.name} could not start`);
    process.exit(1);
  }
}
