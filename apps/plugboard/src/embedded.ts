import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ApiKeys, SignInLinks } from '@plugboard/access';
import { EMBEDDED_ADMIN_USER } from '@plugboard/contracts';
import { ConnectionModule, CONNECTION, connectionMigrations } from '@plugboard/connection';
import { GATEWAY, gatewayMigrations, signInUrl, startGateway } from '@plugboard/gateway';
import { ProxyHandler } from '@plugboard/invocations';
import { InvokeProxyModule, INVOKE_PROXY, invokeProxyMigrations } from '@plugboard/invoke-proxy';
import { dataSourceOptions, loadConfig, publicUrlOf, runMigrations, startMicroservice, type PlatformConfig } from '@plugboard/runtime';
import { SERVICE_REGISTRY, ServiceRegistryModule, serviceRegistryMigrations } from '@plugboard/service-registry';
import { TokenRefreshModule, TOKEN_REFRESH, tokenRefreshMigrations } from '@plugboard/token-refresh';

export const DEFAULT_ORG = 'default';
export const allMigrations = [...new Set([...gatewayMigrations, ...serviceRegistryMigrations, ...connectionMigrations, ...tokenRefreshMigrations, ...invokeProxyMigrations])];

export interface Closable {
  close(): Promise<void>;
}

/** Migrates the database for every app (before startAllApps, as `npm run migrate` does before a distributed rollout). */
export async function migrateAll(config: PlatformConfig): Promise<void> {
  await runMigrations(config.DATABASE_URL, allMigrations);
}

/** Starts every app in this process on a migrated database, the four microservices first so the gateway finds them. */
export async function startAllApps(config: PlatformConfig, logger: Logger): Promise<{ gatewayUrl: string; close(): Promise<void> }> {
  const apps: Closable[] = [];
  const child = (name: string) => logger.child({ app: name });
  apps.push(await startMicroservice(ServiceRegistryModule.register({ config, logger: child(SERVICE_REGISTRY) }), SERVICE_REGISTRY, config, child(SERVICE_REGISTRY)));
  apps.push(await startMicroservice(ConnectionModule.register({ config, logger: child(CONNECTION) }), CONNECTION, config, child(CONNECTION)));
  apps.push(await startMicroservice(TokenRefreshModule.register({ config, logger: child(TOKEN_REFRESH) }), TOKEN_REFRESH, config, child(TOKEN_REFRESH)));
  const invokeProxy = await startMicroservice(InvokeProxyModule.register({ config, logger: child(INVOKE_PROXY) }), INVOKE_PROXY, config, child(INVOKE_PROXY));
  apps.push(invokeProxy);
  const gateway = await startGateway(config, child(GATEWAY), invokeProxy.get(ProxyHandler).listener);
  apps.unshift(gateway);
  const gatewayUrl = (await gateway.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    gatewayUrl,
    close: async () => {
      for (const app of apps) await app.close();
    },
  };
}

/** The master key: from the environment, else generated once into `<home>/master-key` (and said so). */
export function masterKey(home: string, env: NodeJS.ProcessEnv, logger: Logger): string {
  if (env.PLUGBOARD_MASTER_KEY) return env.PLUGBOARD_MASTER_KEY;
  const file = path.join(home, 'master-key');
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    logger.warn({ file }, 'no PLUGBOARD_MASTER_KEY: generated one; keep this file safe, the vault cannot be read without it');
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The first start's admin key for org `default`, written to `<home>/api-key`: a product's key (it may name the user
 * it acts for), for scripts and the suite's backends. Later starts keep the key in that file while it is still
 * valid, so a restart does not change what the user has saved. Every start also makes a one-time sign-in link to
 * the console for the first-run person, user `admin` (role admin) of org `default`.
 */
export async function ensureAdminKey(config: PlatformConfig, home: string): Promise<{ key: string; created: boolean; file: string; signInLink: string }> {
  const file = path.join(home, 'api-key');
  const dataSource = new DataSource(dataSourceOptions({ url: config.DATABASE_URL, poolSize: 1 }));
  await dataSource.initialize();
  try {
    const keys = new ApiKeys(dataSource);
    const { token } = await new SignInLinks(dataSource).create({ orgId: DEFAULT_ORG, userId: EMBEDDED_ADMIN_USER, role: 'admin' });
    const signInLink = signInUrl(publicUrlOf(config), token);
    const saved = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (saved && (await keys.verify(saved))) return { key: saved, created: false, file, signInLink };
    const { key } = await keys.create(DEFAULT_ORG, 'admin', { actAs: 'any' }, 'embedded first run');
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    return { key, created: true, file, signInLink };
  } finally {
    await dataSource.destroy();
  }
}

export function embeddedConfig(env: NodeJS.ProcessEnv, databaseUrl: string, key: string): PlatformConfig {
  return loadConfig({ ...env, DATABASE_URL: databaseUrl, PLUGBOARD_MASTER_KEY: key });
}
