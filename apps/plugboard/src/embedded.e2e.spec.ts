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

  async function start(): Promise<RunningProcess> {
    running = runEntry('apps/plugboard/src/main.ts', { PLUGBOARD_HOME: home, PORT: String(port), DATABASE_URL: undefined, NATS_URL: undefined, PLUGBOARD_MASTER_KEY: undefined, LOG_LEVEL: 'warn' });
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

  beforeAll(async () => (port = await freePort()));
  afterAll(async () => {
    await running?.stop('SIGINT');
    rmSync(home, { recursive: true, force: true });
  });

  it('starts with nothing configured, prints and saves an admin key, and serves the API', async () => {
    const first = await start();
    const [printed] = first.output().match(/pb_[A-Za-z0-9_-]{43}/) ?? [];
    expect(readFileSync(path.join(home, 'api-key'), 'utf8').trim()).toBe(printed);
    expect(first.output()).toMatch(/generated one/);
    expect(existsSync(path.join(home, 'master-key'))).toBe(true);
    expect(existsSync(path.join(home, 'postgres', 'PG_VERSION'))).toBe(true);

    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/v1/services/x`)).status).toBe(401);
    const created = await call('POST', '/v1/services', { name: 'Newcomer API', linkName: 'newcomer_api', authType: 'basic', baseUrl: 'https://api.example.com' });
    expect(created.status).toBe(201);
    expect(await call('GET', '/v1/services/newcomer_api')).toEqual({ status: 200, body: created.body });
  }, 180_000);

  it('stops everything on Ctrl-C, its PostgreSQL included', async () => {
    // postmaster.pid's fourth line is the port PostgreSQL listens on.
    const postgresPort = Number(readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3]);
    expect(await portOpen(postgresPort)).toBe(true);
    expect(await running?.stop('SIGINT')).toBe(0);
    expect(await portOpen(port)).toBe(false);
    await eventually(async () => expect(await portOpen(postgresPort)).toBe(false), 10_000);
  }, 30_000);

  it('keeps the data and the key across a restart', async () => {
    const keyBefore = readFileSync(path.join(home, 'api-key'), 'utf8');
    const second = await start();
    expect(second.output()).toMatch(/from .*api-key/);
    expect(readFileSync(path.join(home, 'api-key'), 'utf8')).toBe(keyBefore);
    const read = await call('GET', '/v1/services/newcomer_api');
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('Newcomer API');
  }, 180_000);
});
