import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@plugboard/runtime';
import { eventually, runEntry, type RunningProcess } from '@plugboard/testing';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * `npm start` as a newcomer meets it: no database, no NATS, no configuration. It must start its own PostgreSQL,
 * hand out an admin key, keep data across a restart, and stop everything on Ctrl-C.
 */
describe('embedded mode (npm start)', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'plugboard-embedded-'));
  let port: number;
  let running: RunningProcess | undefined;
  /** The key file as a script finds it the moment /health first answers 200. */
  let keyWhenHealthy = '';

  async function start(): Promise<RunningProcess> {
    running = runEntry('apps/plugboard/src/main.ts', { PLUGBOARD_HOME: home, PORT: String(port), DATABASE_URL: undefined, NATS_URL: undefined, PLUGBOARD_MASTER_KEY: undefined, LOG_LEVEL: 'warn' });
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status).toBe(200), 120_000, 20);
    keyWhenHealthy = existsSync(path.join(home, 'api-key')) ? readFileSync(path.join(home, 'api-key'), 'utf8').trim() : '';
    await running.waitForOutput(/Admin API key for org "default"[^\n]*\n\s+pb_\S+/, 120_000);
    return running;
  }

  function call(method: string, route: string, body?: object) {
    const key = readFileSync(path.join(home, 'api-key'), 'utf8').trim();
    return fetch(`http://127.0.0.1:${port}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'x-user-id': 'newcomer', 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  }

  /** `npm run keys -- …` on this home, with nothing else set: its exit code, the key or link it printed, and its words. */
  async function keys(args: string[]): Promise<{ code: number | string; printed: string; output: string }> {
    const cli = runEntry('apps/plugboard/src/keys.cli.ts', { PLUGBOARD_HOME: home, PORT: String(port), DATABASE_URL: undefined, NATS_URL: undefined, PLUGBOARD_MASTER_KEY: undefined }, args);
    const code = await cli.exited;
    const output = cli.output();
    return { code, printed: /(pb_\S+|http\S+sign-in\S+)/.exec(output)?.[1] ?? '', output };
  }

  const asKey = (key: string) => fetch(`http://127.0.0.1:${port}/v1/session`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.json() as Promise<any>);
  let offlineKey = '';

  beforeAll(async () => (port = await freePort()));
  afterAll(async () => {
    await running?.stop('SIGINT');
    rmSync(home, { recursive: true, force: true });
  });

  it('starts with nothing configured, prints and saves an admin key, and serves the API', async () => {
    const first = await start();
    const [printed] = first.output().match(/pb_[A-Za-z0-9_-]{43}/) ?? [];
    expect(readFileSync(path.join(home, 'api-key'), 'utf8').trim()).toBe(printed);
    // A script that waits for /health and then reads the key (as the README's curl line does) finds it.
    expect(keyWhenHealthy).toBe(printed);
    expect(first.output()).toMatch(/generated one/);
    expect(existsSync(path.join(home, 'master-key'))).toBe(true);
    expect(existsSync(path.join(home, 'postgres', 'PG_VERSION'))).toBe(true);

    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/v1/services/x`)).status).toBe(401);
    const created = await call('POST', '/v1/services', { name: 'Newcomer API', linkName: 'newcomer_api', authType: 'basic', baseUrl: 'https://api.example.com' });
    expect(created.status).toBe(201);
    expect(await call('GET', '/v1/services/newcomer_api')).toEqual({ status: 200, body: created.body });
  }, 180_000);

  it('prints a one-time sign-in link beside the key: it signs a browser in as admin of org default, once', async () => {
    const output = running?.output() ?? '';
    const link = output.match(new RegExp(`http://localhost:${port}/console/sign-in\\?token=st_[A-Za-z0-9_-]{43}`))?.[0] ?? '';
    expect(link).not.toBe('');
    expect(output.indexOf(link)).toBeLessThan(output.search(/pb_[A-Za-z0-9_-]{43}/));
    const token = new URL(link).searchParams.get('token');
    const signIn = () => fetch(`http://127.0.0.1:${port}/v1/session/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    const first = await signIn();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ signedIn: true, orgId: 'default', userId: 'admin', role: 'admin', via: 'session' });
    expect((await signIn()).status).toBe(401);
    // The first-run key is a product's key: it may act for any user it names.
    expect(await call('GET', '/v1/session')).toMatchObject({ body: { userId: 'newcomer', role: 'admin', via: 'api_key' } });
  }, 30_000);

  it('npm run keys works on the embedded database of a running Plugboard, with nothing set', async () => {
    const person = await keys(['create', '--org', 'acme', '--role', 'admin', '--user', 'ursula']);
    expect(person.code).toBe(0);
    expect(person.output).toContain('key for ursula');
    expect(await asKey(person.printed)).toMatchObject({ orgId: 'acme', userId: 'ursula', role: 'admin' });
    const product = await keys(['create', '--org', 'acme', '--role', 'member']);
    expect(product.output).toContain('product key');
    const link = await keys(['sign-in-link']);
    expect(link.code).toBe(0);
    expect(link.printed).toMatch(new RegExp(`^http://localhost:${port}/console/sign-in\\?token=st_`));
    expect((await keys(['create', '--org', 'acme', '--role', 'admin', '--user', 'bad user'])).code).toBe(2);
  }, 240_000);

  it('stops everything on Ctrl-C, its PostgreSQL included', async () => {
    // postmaster.pid's fourth line is the port PostgreSQL listens on.
    const postgresPort = Number(readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
    expect(await portOpen(postgresPort)).toBe(true);
    expect(await running?.stop('SIGINT')).toBe(0);
    expect(await portOpen(port)).toBe(false);
    await eventually(async () => expect(await portOpen(postgresPort)).toBe(false), 10_000);
  }, 30_000);

  it('npm run keys works on the embedded database while Plugboard is stopped (and leaves no PostgreSQL running)', async () => {
    const made = await keys(['create', '--org', 'acme', '--role', 'read_only', '--user', 'victor']);
    expect(made.code).toBe(0);
    offlineKey = made.printed;
    expect(offlineKey).toMatch(/^pb_/);
    expect(existsSync(path.join(home, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 120_000);

  it('keeps the data and the key across a restart', async () => {
    const keyBefore = readFileSync(path.join(home, 'api-key'), 'utf8');
    const second = await start();
    expect(second.output()).toMatch(/from .*api-key/);
    expect(readFileSync(path.join(home, 'api-key'), 'utf8')).toBe(keyBefore);
    const read = await call('GET', '/v1/services/newcomer_api');
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('Newcomer API');
    expect(await asKey(offlineKey)).toMatchObject({ orgId: 'acme', userId: 'victor', role: 'read_only' });
  }, 180_000);
});
