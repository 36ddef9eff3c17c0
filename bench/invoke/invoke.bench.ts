/**
 * Invoke overhead, all in one run on one machine: the same GET to a local upstream made directly, through a bare
 * Node reverse proxy (keep-alive forwarding, no auth work: the yardstick), through `/v1/proxy/{linkName}` (embedded,
 * and an invoke-proxy app in its own process), through
 * `POST /v1/invoke` (gateway → NATS → invoke proxy), and as a NATS invoke request from another product.
 * HTTP paths are driven by wrk (Debian package `wrk`): one connection for latency, many for throughput.
 *   npm run bench:invoke -- --seconds 10 --connections 32
 * Needs the PostgreSQL and NATS of the development machines (as the tests do).
 */
import 'reflect-metadata';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Subjects } from '@plugboard/contracts';
import { freePort } from '@plugboard/runtime';
import { runEntry, TEST_NATS_URL, testMasterKey, testNamespace } from '@plugboard/testing';
import { startTestSystem } from '../../apps/plugboard/src/test-support/test-system';

const run = promisify(execFile);

// The upstream and the bare proxy run in processes of their own, as they would in production.
const UPSTREAM = `require('node:http').createServer((q, s) => s.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}')).listen(+process.env.PORT, '127.0.0.1')`;
const BARE_PROXY = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
http.createServer((req, res) => {
  const out = http.request({ host: '127.0.0.1', port: +process.env.TARGET, path: req.url, method: req.method, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  req.pipe(out);
}).listen(+process.env.PORT, '127.0.0.1');`;

async function node(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: 'inherit' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return child;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

/** wrk's requests/s and latency percentiles (ms) for one URL. */
async function wrk(url: string, seconds: number, connections: number, headers: Record<string, string>, body?: string): Promise<Figures> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  if (body) {
    const script = path.join(tmpdir(), `plugboard-bench-${process.pid}.lua`);
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
    args.push('-s', script);
  }
  const { stdout } = await run('wrk', [...args, url]);
  const ms = (label: string) => {
    const match = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
    if (!match) throw new Error(`wrk printed no ${label} latency:\n${stdout}`);
    return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} failed calls\n${stdout}`);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]), p50: ms('50%'), p99: ms('99%') };
}

/** The same figures for a call made from this process (the NATS path has no URL for wrk). */
async function loop(seconds: number, concurrency: number, call: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < 200; i++) await call();
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const started = process.hrtime.bigint();
        await call();
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const [upstreamPort, barePort] = [await freePort(), await freePort()];
  const children = [await node(UPSTREAM, { PORT: String(upstreamPort) }), await node(BARE_PROXY, { PORT: String(barePort), TARGET: String(upstreamPort) })];
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  // The same deployment seen two ways: every app in one process (embedded: the gateway answers /v1/proxy), and an
  // invoke-proxy app in a process of its own on the same database and bus (distributed: its own /v1/proxy port).
  const shared = { PLUGBOARD_NAMESPACE: testNamespace(), PLUGBOARD_MASTER_KEY: testMasterKey(), PLUGBOARD_INVOKE_ALLOW_HOSTS: '127.0.0.1' };
  const sys = await startTestSystem({ LOG_LEVEL: 'warn', ...shared });
  const proxyPort = await freePort();
  const invokeProxy = runEntry('apps/invoke-proxy/src/main.ts', { ...shared, DATABASE_URL: sys.db.url, NATS_URL: TEST_NATS_URL, PORT: String(proxyPort) });
  try {
    await invokeProxy.waitForOutput(/listening for \/v1\/proxy/, 120_000);
    const key = await sys.key('bench', 'member');
    const auth = { authorization: `Bearer ${key}`, 'x-user-id': 'bench' };
    await sys.call('POST', '/v1/services', key, { name: 'Bench', linkName: 'bench', authType: 'api_key', baseUrl: upstreamUrl, apiKey: { params: [{ name: 'X-Key', displayName: 'Key', paramType: 'header' }] } }, 'bench');
    await sys.call('POST', '/v1/connections', key, { name: 'Bench', linkName: 'bench', service: 'bench' }, 'bench');
    await sys.call('POST', '/v1/connections/bench/authorize', key, { values: { 'X-Key': 'k' } }, 'bench');
    const invokeBody = JSON.stringify({ connection: 'bench', method: 'GET', url: '/ping' });
    const natsCall = () => sys.rpc.request(Subjects.invoke.request, { actor: { orgId: 'bench', userId: 'bench' }, invoke: { connection: 'bench', method: 'GET', url: '/ping' } });

    const paths: [string, (c: number) => Promise<Figures>][] = [
      ['direct', (c) => wrk(`${upstreamUrl}/ping`, seconds, c, {})],
      ['bare node proxy', (c) => wrk(`http://127.0.0.1:${barePort}/ping`, seconds, c, {})],
      ['/v1/proxy, embedded', (c) => wrk(`${sys.publicUrl}/v1/proxy/bench/ping`, seconds, c, auth)],
      ['/v1/proxy, own process', (c) => wrk(`http://127.0.0.1:${proxyPort}/v1/proxy/bench/ping`, seconds, c, auth)],
      ['POST /v1/invoke', (c) => wrk(`${sys.publicUrl}/v1/invoke`, seconds, c, { ...auth, 'content-type': 'application/json' }, invokeBody)],
      ['NATS invoke.request', (c) => loop(seconds, c, natsCall)],
    ];
    const results: { label: string; one: Figures; many: Figures }[] = [];
    for (const [label, measure] of paths) results.push({ label, one: await measure(1), many: await measure(connections) });

    const [direct, bare] = results;
    const cell = (value: string, width: number) => value.padStart(width);
    process.stdout.write(`${seconds} s per figure; latency with 1 connection, throughput with ${connections}\n`);
    process.stdout.write(`${'path'.padEnd(24)}${cell('p50 ms', 9)}${cell('p99 ms', 9)}${cell('added p50', 11)}${cell('added p99', 11)}${cell('req/s', 9)}${cell('vs bare', 9)}\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.label.padEnd(24)}${cell(r.one.p50.toFixed(2), 9)}${cell(r.one.p99.toFixed(2), 9)}${cell((r.one.p50 - direct.one.p50).toFixed(2), 11)}${cell((r.one.p99 - direct.one.p99).toFixed(2), 11)}${cell(String(Math.round(r.many.rps)), 9)}${cell(`${Math.round((100 * r.many.rps) / bare.many.rps)}%`, 9)}\n`,
      );
    }
  } finally {
    invokeProxy.child.kill('SIGTERM');
    await invokeProxy.exited;
    await sys.close();
    for (const child of children) child.kill();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
