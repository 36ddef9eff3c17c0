import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from '@plugboard/runtime';
import { runEntry } from '@plugboard/testing';

/**
 * `npm test` on a machine with nothing running: the runner is pointed at ports where nothing answers (never stopping
 * the machine's own services) and must start PostgreSQL and NATS with JetStream itself, hand them to the command, and
 * stop them when the command ends or is interrupted.
 */
const RUNNER = 'apps/plugboard/src/test-support/with-test-services.ts';

// The command the runner starts: it uses both services as the tests do, then exits with a code of its own or waits.
const PROBE = `
const { Client } = require('pg');
const { connect } = require('nats');
(async () => {
  const pg = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await pg.connect();
  await pg.query('CREATE DATABASE probe_' + process.pid);
  await pg.query('DROP DATABASE probe_' + process.pid);
  await pg.end();
  const nc = await connect({ servers: process.env.TEST_NATS_URL });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'probe', subjects: ['probe.>'] });
  await nc.close();
  const ports = [new URL(process.env.TEST_DATABASE_URL).port, new URL(process.env.TEST_NATS_URL).port];
  process.stdout.write('services ok on ' + ports.join(' ') + '\\n');
  if (process.argv[1] === 'wait') setInterval(() => undefined, 1000);
  else process.exit(3);
})().catch((error) => { console.error('probe failed: ' + error.message); process.exit(9); });
`;

const answers = (port: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

const workFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('plugboard-test-')).sort();

async function deadEnv() {
  return { TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, TEST_NATS_URL: `nats://127.0.0.1:${await freePort()}` };
}

describe('npm test with no PostgreSQL and no NATS running', () => {
  it('starts both, hands them to the command, passes its exit code on, and stops them', async () => {
    const before = workFolders();
    const run = runEntry(RUNNER, await deadEnv(), ['--', process.execPath, '-e', PROBE]);
    expect(await run.exited).toBe(3);
    const [, databasePort, natsPort] = run.output().match(/services ok on (\d+) (\d+)/) ?? [];
    expect(run.output()).toMatch(/started for this run: PostgreSQL on 127\.0\.0\.1:\d+, NATS with JetStream on 127\.0\.0\.1:\d+/);
    expect(await answers(databasePort)).toBe(false);
    expect(await answers(natsPort)).toBe(false);
    expect(workFolders()).toEqual(before);
    // The embedded server's password is in TEST_DATABASE_URL: the runner never prints it.
    expect(run.output()).not.toMatch(/postgres:\/\/postgres:/);
  }, 120_000);

  it('stops what it started when the run is interrupted', async () => {
    const before = workFolders();
    const run = runEntry(RUNNER, await deadEnv(), ['--', process.execPath, '-e', PROBE, 'wait']);
    const [, databasePort, natsPort] = await run.waitForOutput(/services ok on (\d+) (\d+)/, 60_000);
    expect(await answers(databasePort)).toBe(true);
    const code = await run.stop('SIGINT');
    expect(code).not.toBe(0);
    expect(run.output()).toMatch(/interrupted: stopped what this run started/);
    expect(await answers(databasePort)).toBe(false);
    expect(await answers(natsPort)).toBe(false);
    expect(workFolders()).toEqual(before);
  }, 120_000);

  it('uses the services that answer and starts nothing', async () => {
    const run = runEntry(RUNNER, {}, ['--', process.execPath, '-e', PROBE]);
    expect(await run.exited).toBe(3);
    expect(run.output()).not.toMatch(/started for this run/);
  }, 60_000);
});
