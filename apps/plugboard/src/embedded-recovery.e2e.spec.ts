import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '@plugboard/runtime';
import { runEntry, type RunningProcess } from '@plugboard/testing';

/** A process that has not ended (a zombie, ended but not yet reaped, counts as ended). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !existsSync(`/proc/${pid}/stat`) || !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * `npm start` after the worst an operator does to it: its Node process killed with SIGKILL (the PostgreSQL it started
 * keeps running and holds the data folder), then a start with the wrong PLUGBOARD_MASTER_KEY (which must be refused,
 * not serve 500s and seal new secrets with that key), then a vault from before canaries.
 */
describe('embedded mode after a crash and with a wrong master key (npm start)', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'plugboard-recovery-'));
  const postmaster = () => readFileSync(path.join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
  let port: number;
  let running: RunningProcess | undefined;

  const entry = (env: NodeJS.ProcessEnv = {}) =>
    runEntry('apps/plugboard/src/main.ts', { PLUGBOARD_HOME: home, PORT: String(port), DATABASE_URL: undefined, NATS_URL: undefined, PLUGBOARD_MASTER_KEY: undefined, LOG_LEVEL: 'warn', ...env });
  async function start(): Promise<RunningProcess> {
    running = entry();
    await running.waitForOutput(/Admin API key for org "default"[^\n]*\n\s+pb_\S+/, 120_000);
    return running;
  }
  function call(method: string, route: string, body?: object) {
    const key = readFileSync(path.join(home, 'api-key'), 'utf8').trim();
    return fetch(`http://127.0.0.1:${port}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'x-user-id': 'operator', 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  }
  /** A query on the running embedded PostgreSQL (postmaster.pid's fourth line is its port). */
  async function sql(text: string): Promise<any[]> {
    const password = readFileSync(path.join(home, 'postgres-password'), 'utf8').trim();
    const client = new Client({ host: '127.0.0.1', port: Number(postmaster()[3]), user: 'postgres', password, database: 'plugboard' });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }
  /** The id the vault records for the generated master key (an id-less key's id is a hash of it, never the key). */
  const generatedKeyId = () => createHash('sha256').update(Buffer.from(readFileSync(path.join(home, 'master-key'), 'utf8').trim(), 'base64')).digest('hex').slice(0, 12);

  beforeAll(async () => (port = await freePort()));
  afterAll(async () => {
    await running?.stop('SIGINT');
    rmSync(home, { recursive: true, force: true });
  });

  it('comes back after its Node process is SIGKILLed: the PostgreSQL it left running is stopped, the data is there', async () => {
    await start();
    const created = await call('POST', '/v1/services', { name: 'Crash API', linkName: 'crash_api', authType: 'basic', baseUrl: 'https://api.example.com' });
    expect(created.status).toBe(201);
    const stale = Number(postmaster()[0]);

    expect(await running?.stop('SIGKILL')).toBe('SIGKILL');
    expect(alive(stale)).toBe(true); // what the crash leaves behind: a server holding the data folder

    await start();
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(await call('GET', '/v1/services/crash_api')).toEqual({ status: 200, body: created.body });
    expect(alive(stale)).toBe(false);
    expect(Number(postmaster()[0])).not.toBe(stale);
  }, 300_000);

  it('refuses to start with a wrong master key, naming the key id the vault expects (never a key), and stops its PostgreSQL', async () => {
    expect(await running?.stop('SIGINT')).toBe(0);
    const right = readFileSync(path.join(home, 'master-key'), 'utf8').trim();
    const wrong = randomBytes(32).toString('base64');
    const refused = entry({ PLUGBOARD_MASTER_KEY: wrong });
    const outcome = await Promise.race([refused.exited, refused.waitForOutput(/Admin API key/, 120_000).then(() => 'started', () => 'exited')]);
    if (outcome === 'started') await refused.stop('SIGINT');
    expect(outcome).toBe(1);
    expect(refused.output()).toMatch(new RegExp(`Plugboard could not start: The vault was sealed with the master key "${generatedKeyId()}"`));
    expect(refused.output()).not.toContain(wrong);
    expect(refused.output()).not.toContain(right);
    expect(existsSync(path.join(home, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 180_000);

  it('gives a deployment from before canaries one on its next start with the right key', async () => {
    await start();
    // A vault with a secret and no canary, as every deployment before canaries has.
    const oauth = await call('POST', '/v1/services', {
      name: 'Old OAuth',
      linkName: 'old_oauth',
      authType: 'oauth2',
      baseUrl: 'https://api.old.example',
      oauth2: { grantType: 'authorization_code', clientId: 'old-client', clientSecret: 'old-client-secret-5d1e', authorizeUrl: 'https://auth.old.example/authorize', accessTokenUrl: 'https://auth.old.example/token', paramType: 'header', scopes: [], scopeDelimiter: 'space' },
    });
    expect(oauth.status).toBe(201);
    expect((await sql(`SELECT count(*)::int AS n FROM vault_entries`))[0].n).toBeGreaterThan(0);
    await sql(`DELETE FROM vault_canaries`);
    expect(await running?.stop('SIGINT')).toBe(0);

    await start();
    expect(await sql(`SELECT key_id FROM vault_canaries`)).toEqual([{ key_id: generatedKeyId() }]);
    expect((await call('GET', '/v1/services/old_oauth')).status).toBe(200);
  }, 300_000);
});
