#!/usr/bin/env node
// Builds the console (apps/console, React + Vite) into apps/console/dist, which the gateway serves at /console.
// Run by `npm ci` (postinstall), `npm start` (prestart) and `npm test` (the console's Nx build target, with --force).
// Without --force it builds only when a source is newer than the last build, so a start costs nothing when nothing
// changed. An install without dev dependencies has no Vite: it says so and leaves the console out.
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'apps', 'console');
const dist = path.join(root, 'dist', 'index.html');

function newest(entry) {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newest(path.join(entry, name))));
}

async function main() {
  const force = process.argv.includes('--force');
  const sources = ['src', 'index.html', 'vite.config.mts'].map((name) => path.join(root, name));
  if (!force && existsSync(dist) && statSync(dist).mtimeMs >= Math.max(...sources.map(newest))) return;
  let vite;
  try {
    vite = await import('vite');
  } catch {
    console.warn('console: Vite is not installed (an install without dev dependencies), so /console is not built.');
    return;
  }
  const started = Date.now();
  await vite.build({ configFile: path.join(root, 'vite.config.mts') });
  console.warn(`console: built into apps/console/dist in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
