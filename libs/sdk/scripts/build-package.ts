import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const CONTRACTS = '@plugboard/contracts';

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

/**
 * Compiles the SDK for npm into `dist/`: the SDK and the contracts it is typed by (compiled along, so the package
 * needs no unpublished @plugboard/contracts), with the alias rewritten to a relative path in the JS and the .d.ts;
 * and the gRPC service's .proto into `proto/`.
 */
function buildPackage(): void {
  rmSync(dist, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.lib.json')], { stdio: 'inherit' });
  const contractsIndex = path.join(dist, 'libs/contracts/src/index');
  for (const file of files(dist)) {
    if (!/\.(js|d\.ts)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    const relative = path.relative(path.dirname(file), contractsIndex).split(path.sep).join('/');
    const rewritten = text.replace(/(['"])@plugboard\/contracts\1/g, `'${relative.startsWith('.') ? relative : `./${relative}`}'`);
    const stray = /(['"])@plugboard\/[\w/-]+\1/.exec(rewritten);
    if (stray) throw new Error(`${path.relative(root, file)} imports ${stray[0]}: the SDK may depend on ${CONTRACTS} only.`);
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
  // The contracts name their .proto by path; it travels with them. It is also published at the package's root
  // (`@plugboard/sdk/proto/plugboard.proto`) for products that generate a gRPC client in any language.
  cpSync(path.join(root, '../contracts/proto'), path.join(dist, 'libs/contracts/proto'), { recursive: true });
  rmSync(path.join(root, 'proto'), { recursive: true, force: true });
  cpSync(path.join(root, '../contracts/proto'), path.join(root, 'proto'), { recursive: true });
}

buildPackage();
