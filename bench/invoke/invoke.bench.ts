/**
 * Invoke overhead: the same GET to a local upstream, made directly, through POST /v1/invoke (gateway → NATS →
 * invoke proxy → upstream) and as a NATS invoke request, each for a fixed time at a fixed concurrency.
 *   npm run bench:invoke -- --seconds 10 --concurrency 16
 * Needs the PostgreSQL and NATS of the development machines (as the tests do).
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:http';
import { Subjects } from '@plugboard/contracts';
import { startTestSystem } from '../../apps/plugboard/src/test-support/test-system';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function get(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

async function measure(label: string, seconds: number, concurrency: number, call: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await call(); // warm up connections and caches
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
  return { label, rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' } } });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const sys = await startTestSystem();
  const key = await sys.key('bench', 'member');
  const headers = { authorization: `Bearer ${key}`, 'x-user-id': 'bench', 'content-type': 'application/json' };
  await sys.call('POST', '/v1/services', key, { name: 'Bench', linkName: 'bench', authType: 'api_key', baseUrl: upstreamUrl, apiKey: { params: [{ name: 'X-Key', displayName: 'Key', paramType: 'header' }] } }, 'bench');
  await sys.call('POST', '/v1/connections', key, { name: 'Bench', linkName: 'bench', service: 'bench' }, 'bench');
  await sys.call('POST', '/v1/connections/bench/authorize', key, { values: { 'X-Key': 'k' } }, 'bench');
  const body = JSON.stringify({ connection: 'bench', method: 'GET', url: '/ping' });

  const direct = await measure('direct', seconds, concurrency, () => get(`${upstreamUrl}/ping`));
  const rest = await measure('POST /v1/invoke', seconds, concurrency, () => get(`${sys.publicUrl}/v1/invoke`, { method: 'POST', headers, body }));
  const nats = await measure('NATS invoke.request', seconds, concurrency, () => sys.rpc.request(Subjects.invoke.request, { actor: { orgId: 'bench', userId: 'bench' }, invoke: { connection: 'bench', method: 'GET', url: '/ping' } }));

  process.stdout.write(`concurrency ${concurrency}, ${seconds} s each\n`);
  process.stdout.write(`${'path'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'added p50'.padStart(10)} ${'added p99'.padStart(10)}\n`);
  for (const r of [direct, rest, nats]) {
    process.stdout.write(
      `${r.label.padEnd(22)} ${String(r.rps).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${(r.p50 - direct.p50).toFixed(2).padStart(10)} ${(r.p99 - direct.p99).toFixed(2).padStart(10)}\n`,
    );
  }
  await sys.close();
  upstream.close();
  agent.destroy();
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
