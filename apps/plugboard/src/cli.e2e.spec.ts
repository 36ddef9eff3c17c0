import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const API_SECRET = 'cli-upstream-secret-58';
// Each run starts a Node process that compiles the CLI as it loads (about a second of CPU): several per test.
jest.setTimeout(120_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the plugboard CLI, as a child process', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let key: string;
  let emptyHome: string;
  const everything: string[] = [];

  /** `plugboard <args>` with PLUGBOARD_URL and PLUGBOARD_API_KEY set (unless `env` says otherwise). */
  function plugboard(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<Run> {
    const env = { ...process.env, PLUGBOARD_URL: sys.publicUrl, PLUGBOARD_API_KEY: key, PLUGBOARD_HOME: emptyHome, ...options.env };
    const child = spawn(process.execPath, ['tools/run.js', 'apps/cli/src/main.ts', ...args], { cwd: WORKSPACE_ROOT, env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdin.end(options.stdin ?? '');
    return new Promise((resolve) =>
      child.on('close', (code) => {
        everything.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      }),
    );
  }
  const json = async (args: string[], stdin?: string) => {
    const run = await plugboard([...args, '--json'], { stdin });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    up = await startUpstream();
    sys = await startTestSystem();
    key = await sys.key('acme', 'admin');
    emptyHome = mkdtempSync(path.join(tmpdir(), 'plugboard-cli-'));
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
    await up?.close();
    rmSync(emptyHome, { recursive: true, force: true });
  });

  it('creates a service, a connection, authorizes it from standard input, and invokes the API', async () => {
    const service = { name: 'Local API', linkName: 'local_api', authType: 'api_key', baseUrl: up.base, apiKey: { params: [{ name: 'X-Api-Key', displayName: 'Key', paramType: 'header' }] } };
    expect(await json(['services', 'create', '--data', JSON.stringify(service)])).toMatchObject({ linkName: 'local_api', type: 'custom' });
    expect(await json(['connections', 'create', '--name', 'Local', '--link-name', 'local', '--service', 'local_api', '--user', 'alice'])).toMatchObject({ status: 'pending', owner: 'alice' });
    const authorized = await json(['connections', 'authorize', 'local', '--data', '-', '--user', 'alice'], JSON.stringify({ values: { 'X-Api-Key': API_SECRET } }));
    expect(authorized.connection).toMatchObject({ linkName: 'local', status: 'connected' });

    const answer = await json(['invoke', 'local', 'POST', '/orders', '--query', 'page=2', '-H', 'x-trace: t1', '--data', '{"item":"widget"}', '--user', 'alice']);
    expect(answer).toMatchObject({ status: 200, body: { ok: true, path: '/orders' } });
    expect(up.seen.at(-1)).toMatchObject({ method: 'POST', query: { page: '2' }, body: '{"item":"widget"}', headers: { 'x-api-key': API_SECRET, 'x-trace': 't1' } });
    const human = await plugboard(['invoke', 'local', 'GET', '/hello', '--user', 'alice']);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(/^HTTP 200\n\{\n {2}"ok": true,\n {2}"path": "\/hello"\n\}\n$/);
  });

  it('lists as a table for people and as JSON with --json, every page with --all', async () => {
    for (const linkName of ['zeta_one', 'zeta_two']) await json(['services', 'create', '--data', JSON.stringify({ name: linkName, linkName, authType: 'basic' })]);
    const page = await json(['services', 'list', '--type', 'custom', '--limit', '2']);
    expect(page.items.map((s: { linkName: string }) => s.linkName)).toEqual(['local_api', 'zeta_one']);
    expect(page.nextCursor).toEqual(expect.any(String));
    const all = await json(['services', 'list', '--type', 'custom', '--limit', '1', '--all']);
    expect(all.map((s: { linkName: string }) => s.linkName)).toEqual(['local_api', 'zeta_one', 'zeta_two']);

    const table = await plugboard(['services', 'list', '--type', 'custom', '--limit', '2']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^LINK NAME\s+NAME\s+TYPE\s+AUTH\s+CONNECTIONS\s+OWNER$/);
    expect(lines[1]).toMatch(/^local_api\s+Local API\s+custom\s+api_key\s+1\s+key\./);
    expect(lines.at(-1)).toMatch(/^\(more: --cursor \S+, or --all\)$/);
    const connections = await plugboard(['connections', 'list', '--user', 'alice']);
    expect(connections.stdout).toMatch(/^LINK NAME\s+NAME\s+SERVICE\s+STATUS/);
    expect(connections.stdout).toMatch(/\nlocal\s+Local\s+local_api\s+connected\s+alice/);
  });

  it('creates, lists and revokes API keys; the new key is printed once, the caller’s never', async () => {
    const created = await json(['keys', 'create', '--role', 'read_only', '--label', 'nightly report']);
    expect(created).toMatchObject({ key: expect.stringMatching(/^pb_/), apiKey: { role: 'read_only', user: null, actAs: 'any', label: 'nightly report' } });
    // --person makes a person's key: it acts as that user only.
    expect(await json(['keys', 'create', '--role', 'member', '--person', 'carol'])).toMatchObject({ apiKey: { user: 'carol', actAs: null } });
    const listed = await plugboard(['keys', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+ROLE\s+ACTS AS\s+PREFIX\s+LABEL\s+CREATED\s+REVOKED/);
    expect(listed.stdout).toMatch(/\smember\s+carol\s/);
    expect(listed.stdout).toContain('nightly report');
    expect(listed.stdout).not.toContain(created.key);
    expect(await json(['keys', 'revoke', created.apiKey.id])).toMatchObject({ id: created.apiKey.id, revokedAt: expect.any(String) });
    const refused = await plugboard(['services', 'list'], { env: { PLUGBOARD_API_KEY: created.key } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*\(unauthenticated, HTTP 401\)/);
    expect(refused.stderr + refused.stdout).not.toContain(created.key);
  });

  it('says what Plugboard refused, with its code, and exits 1', async () => {
    const missing = await plugboard(['connections', 'get', 'nope']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^error: .*nope.* \(connection_not_found, HTTP 404\)\n$/);
    const asJson = await plugboard(['connections', 'get', 'nope', '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'connection_not_found', status: 404 } });
    const invalid = await plugboard(['services', 'create', '--data', '{"name":"Bad","linkName":"Bad Name","authType":"basic"}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/\(validation_failed, HTTP 400\)\n {2}service\.linkName: /);
    const down = await plugboard(['services', 'list'], { env: { PLUGBOARD_URL: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Could not reach Plugboard at http:\/\/127\.0\.0\.1:9.*\(network_error\)/);
  });

  it('refuses bad command lines with exit code 2, a clear sentence and the usage, before calling anything', async () => {
    const cases: [string[], RegExp][] = [
      [['services', 'frobnicate'], /Unknown command "services frobnicate"/],
      [['connections', 'get'], /"connections get" takes 1 argument, not 0\.\nusage: plugboard connections get <linkName>/],
      [['services', 'list', '--view', 'own'], /"services list" takes no --view\.\nusage: plugboard services list/],
      [['services', 'list', '--limit', 'many'], /--limit must be a whole number/],
      [['services', 'create', '--data', '{not json'], /--data is not JSON/],
      [['connections', 'create', '--name', 'X'], /--link-name and --service are required/],
      [['invoke', 'local', 'GET', '/', '-H', 'no-colon'], /--header takes name:value, not "no-colon"/],
      [['services', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['services', 'list', '--url', 'ftp://x'], /baseUrl must be the http\(s\) URL/],
    ];
    const before = up.seen.length;
    for (const [args, message] of cases) {
      const run = await plugboard(args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
    const noKey = await plugboard(['services', 'list'], { env: { PLUGBOARD_API_KEY: undefined } });
    expect(noKey).toMatchObject({ code: 2, stderr: expect.stringContaining('No API key: pass --key, or set PLUGBOARD_API_KEY') });
    expect(up.seen.length).toBe(before);
    const help = await plugboard(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('invoke <linkName> <METHOD> <url>');
  });

  it('never printed the API key it was given, nor the credential it passed on', () => {
    expect(everything.join('\n')).not.toContain(key);
    expect(everything.join('\n')).not.toContain(API_SECRET);
  });
});
