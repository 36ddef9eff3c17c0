// Runs a TypeScript entry point without a build step: ts-node compiles each file as it is required
// (transpile-only: type checking is the build target's job) and tsconfig-paths resolves @plugboard/*.
const path = require('node:path');
const root = path.resolve(__dirname, '..');
process.env.TS_NODE_PROJECT = path.join(root, 'tsconfig.base.json');
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
// ts-node requires node:repl when it loads, and repl loads node:domain, which puts a wrapper around every
// EventEmitter.emit in the process (a proxied call got 30 % slower). Plugboard never starts a REPL: defer it.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'repl' && parent && parent.filename.includes(`${path.sep}ts-node${path.sep}`)) {
    return new Proxy({}, { get: (_target, name) => load('repl', parent, isMain)[name] });
  }
  return load.apply(this, arguments);
};
require('ts-node/register');
Module._load = load;
require('tsconfig-paths').register({ baseUrl: root, paths: require('../tsconfig.base.json').compilerOptions.paths });
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node tools/run.js <entry.ts> [args]\n');
  process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(root, entry));
