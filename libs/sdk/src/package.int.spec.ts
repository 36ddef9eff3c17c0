import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../../..');
const sdk = path.join(repo, 'libs/sdk');

/** The package as npm would publish it, used by a program that knows nothing of this repository's aliases. */
describe('@plugboard/sdk as published', () => {
  let consumer: string;
  beforeAll(async () => {
    await run(process.execPath, ['tools/run.js', 'libs/sdk/scripts/build-package.ts'], { cwd: repo });
    // Inside the repository so that zod and @types/node resolve as they would from the package's own dependencies.
    mkdirSync(path.join(repo, 'tmp'), { recursive: true });
    consumer = mkdtempSync(path.join(repo, 'tmp/sdk-consumer-'));
    mkdirSync(path.join(consumer, 'node_modules/@plugboard'), { recursive: true });
    symlinkSync(sdk, path.join(consumer, 'node_modules/@plugboard/sdk'), 'dir');
  }, 120_000);
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('packs the compiled SDK, its declarations, the contracts it needs and the gRPC .proto, and no sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: sdk });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/libs/sdk/src/index.js', 'dist/libs/sdk/src/index.d.ts', 'dist/libs/contracts/src/index.js', 'proto/plugboard.proto']));
    const published = readFileSync(require.resolve('@plugboard/sdk/proto/plugboard.proto', { paths: [consumer] }), 'utf8');
    expect(published).toBe(readFileSync(path.join(repo, 'libs/contracts/proto/plugboard.proto'), 'utf8'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('loads in plain Node and reports an unreachable gateway as a network_error, without the key', async () => {
    const script = `
      const { Plugboard, PlugboardError } = require('@plugboard/sdk');
      const pb = new Plugboard({ baseUrl: 'http://127.0.0.1:9', apiKey: 'pb_secret_value' });
      pb.services.list().catch((e) => process.stdout.write(JSON.stringify({ isError: e instanceof PlugboardError, code: e.code, status: e.status, message: e.message }) + '\\n'));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: consumer });
    const error = JSON.parse(stdout);
    expect(error).toMatchObject({ isError: true, code: 'network_error', status: 0 });
    expect(error.message).toContain('127.0.0.1:9');
    expect(error.message).not.toContain('pb_secret_value');
  });

  it('type-checks a consumer against the published declarations: contract types in, wrong fields refused', async () => {
    writeFileSync(
      path.join(consumer, 'consumer.ts'),
      `import { Plugboard, PlugboardError, type ConnectionView, type ServiceView } from '@plugboard/sdk';
const pb = new Plugboard({ baseUrl: 'http://localhost:3000', apiKey: 'pb_x', userId: 'alice' });
export async function use(): Promise<string> {
  const service: ServiceView = await pb.services.create({ name: 'Acme', linkName: 'acme', authType: 'basic' });
  const connection: ConnectionView = await pb.connections.create({ name: 'Acme', linkName: 'acme_1', service: service.linkName });
  for await (const s of pb.services.listAll({ type: 'custom' })) void s.linkName;
  const answer = await pb.invoke({ connection: connection.linkName, method: 'GET', url: '/' });
  const raw: Response = await pb.proxy('acme_1', '/v1/me');
  // @ts-expect-error a connection has no colour
  await pb.connections.create({ name: 'A', linkName: 'a', service: 'acme', colour: 'red' });
  // @ts-expect-error the auth type decides the block
  await pb.services.create({ name: 'A', linkName: 'a', authType: 'telepathy' });
  try { await pb.connections.get('x'); } catch (e) { if (e instanceof PlugboardError && e.code === 'connection_not_found') return 'none'; }
  return String(answer.status) + raw.status;
}
`,
    );
    // A consumer's usual settings; an unused @ts-expect-error would fail it, so the contract types must be real.
    const options = ['--noEmit', '--strict', '--skipLibCheck', '--esModuleInterop', '--target', 'es2022', '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node'];
    const checked = await run(process.execPath, [require.resolve('typescript/bin/tsc'), ...options, 'consumer.ts'], { cwd: consumer }).catch((error: { stdout: string }) => error);
    expect(checked.stdout).toBe('');
  }, 60_000);
});
