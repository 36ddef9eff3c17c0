#!/usr/bin/env node
// `npm run build`: compiles every app's entry point (and the libs it imports) to JavaScript in dist/, laid out as the
// sources are (dist/apps/gateway/src/main.js), for `npm run start:<app>` and the image, which copies dist/ over /app.
// tsc compiles (tsconfig.build.json: the entry points only, so test code never reaches dist/) and this file resolves
// what tsc leaves alone: the @plugboard/* aliases, rewritten in place to relative requires through
// tsconfig.base.json's own `paths`, so the output runs under plain `node` with no resolver loaded at start. Then the
// files the code opens by path beside itself (the catalog, the .proto, the console's build) are copied along.
const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const ASSETS = ['libs/catalog/data', 'libs/contracts/proto', 'apps/console/dist'];

function* javascript(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* javascript(full);
    else if (entry.name.endsWith('.js')) yield full;
  }
}

/** `@plugboard/x` → the compiled file its `paths` entry names, without the extension (`dist/libs/x/src/index`). */
function aliases() {
  const { paths } = require(path.join(root, 'tsconfig.base.json')).compilerOptions;
  return new Map(Object.entries(paths).map(([alias, [target]]) => [alias, path.join(dist, target.replace(/\.ts$/, ''))]));
}

function rewrite(targets) {
  for (const file of javascript(dist)) {
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(/require\((["'])(@plugboard\/[\w/-]+)\1\)/g, (call, _quote, alias) => {
      const target = targets.get(alias);
      if (!target) throw new Error(`${path.relative(root, file)} requires ${alias}, which tsconfig.base.json's paths do not name.`);
      const relative = path.relative(path.dirname(file), target).split(path.sep).join('/');
      return `require("${relative.startsWith('.') ? relative : `./${relative}`}")`;
    });
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

function build() {
  const started = Date.now();
  rmSync(dist, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  rewrite(aliases());
  // The console is built by tools/build-console.js (npm run build runs it first); the image takes it from its own stage.
  for (const asset of ASSETS) if (existsSync(path.join(root, asset))) cpSync(path.join(root, asset), path.join(dist, asset), { recursive: true });
  process.stderr.write(`build: dist/ in ${Date.now() - started} ms\n`);
}

build();
