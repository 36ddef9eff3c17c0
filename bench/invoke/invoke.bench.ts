/**
 * Invoke overhead, all in one run on one machine: the same GET to a local upstream made directly, through a bare
 * Node reverse proxy (keep-alive forwarding, no auth work: the yardstick), and through Plugboard as production runs
 * it (the compiled apps of `npm run build`, each deployment on a database of its own): embedded (one process:
 * `/v1/proxy/{linkName}` and `POST /v1/invoke` on its gateway), and distributed (the invoke-proxy app's own
 * `/v1/proxy` port, `POST /v1/invoke` through the gateway and NATS, and a NATS invoke request from another product).
 * HTTP paths are driven by wrk (Debian package `wrk`: `apt-get install -y wrk`): one connection for latency, many for
 * throughput. Then the bare proxy and `/v1/proxy` again while another process keeps one core busy.
 *   npm run bench:invoke -- --seconds 10 --connections 32
 * `--paths proxy` measures only the paths whose label holds that text (direct and the bare proxy always run: the ratios
 * need them), e.g. to profile one path.
 * Needs the PostgreSQL and NATS of the development machines (as the tests do); builds dist/ when it is missing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Subjects } from '@plugboard/contracts';
import { createClientTransport, RpcClient } from '@plugboard/messaging';
import { freePort } from '@plugboard/runtime';
import { TEST_NATS_URL } from '@plugboard/testing';
import { cpuMsOf, cpuMsOfDeployment, drive, startDistributed, startEmbedded, type Deployment } from '../support/plugboard';

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

/** CPU time so far (ms) of what a path runs through: the proxying processes, and the PostgreSQL backends of their database. */
type CpuMeter = () => Promise<number>;

/** A path's throughput figures with the CPU its processes spent per call (µs): steadier than req/s on a shared machine. */
async function metered(measure: () => Promise<Figures>, seconds: number, cpu: CpuMeter | null): Promise<Figures & { cpuPerCall: number | null }> {
  const before = cpu ? await cpu() : 0;
  const figures = await measure();
  return { ...figures, cpuPerCall: cpu ? ((await cpu()) - before) * 1000 / (figures.rps * seconds) : null };
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
  const { rate, p50, p99 } = await drive(seconds, concurrency, call, { warmup: 200 });
  return { rps: rate, p50, p99 };
}

/** The bench's connection `bench`: an API-key service whose API is the upstream, authorized. */
async function connect(deployment: Deployment, upstreamUrl: string): Promise<void> {
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${deployment.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployment.key}`, 'x-user-id': 'bench', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };
  await call('/v1/services', { name: 'Bench', linkName: 'bench', authType: 'api_key', baseUrl: upstreamUrl, apiKey: { params: [{ name: 'X-Key', displayName: 'Key', paramType: 'header' }] } });
  await call('/v1/connections', { name: 'Bench', linkName: 'bench', service: 'bench' });
  await call('/v1/connections/bench/authorize', { values: { 'X-Key': 'k' } });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' }, paths: { type: 'string', default: '' } } });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const [upstreamPort, barePort] = [await freePort(), await freePort()];
  const children = [await node(UPSTREAM, { PORT: String(upstreamPort) }), await node(BARE_PROXY, { PORT: String(barePort), TARGET: String(upstreamPort) })];
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const embedded = await startEmbedded();
  const distributed = await startDistributed();
  const bus = createClientTransport({ natsUrl: TEST_NATS_URL, namespace: distributed.namespace as string, appName: 'bench' });
  try {
    await connect(embedded, upstreamUrl);
    await connect(distributed, upstreamUrl);
    const auth = (d: Deployment) => ({ authorization: `Bearer ${d.key}`, 'x-user-id': 'bench' });
    const invoke = (d: Deployment) => (c: number) => wrk(`${d.url}/v1/invoke`, seconds, c, { ...auth(d), 'content-type': 'application/json' }, JSON.stringify({ connection: 'bench', method: 'GET', url: '/ping' }));
    const rpc = new RpcClient(bus);
    const natsCall = () => rpc.request(Subjects.invoke.request, { actor: { orgId: distributed.org, userId: 'bench' }, invoke: { connection: 'bench', method: 'GET', url: '/ping' } });
    const bare = (c: number) => wrk(`http://127.0.0.1:${barePort}/ping`, seconds, c, {});
    const deploymentCpu = (d: Deployment) => async () => {
      const { apps, database } = await cpuMsOfDeployment(d);
      return apps + database;
    };
    const cpuOf = new Map<string, CpuMeter>([
      ['bare node proxy', async () => cpuMsOf(children[1].pid as number)],
      ['/v1/proxy, embedded', deploymentCpu(embedded)],
      ['/v1/proxy, own process', deploymentCpu(distributed)],
      ['POST /v1/invoke, embedded', deploymentCpu(embedded)],
      ['POST /v1/invoke, NATS', deploymentCpu(distributed)],
      ['NATS invoke.request', deploymentCpu(distributed)],
    ]);
    const proxies: [string, (c: number) => Promise<Figures>][] = [
      ['/v1/proxy, embedded', (c) => wrk(`${embedded.proxyUrl}/v1/proxy/bench/ping`, seconds, c, auth(embedded))],
      ['/v1/proxy, own process', (c) => wrk(`${distributed.proxyUrl}/v1/proxy/bench/ping`, seconds, c, auth(distributed))],
    ];
    const chosen = ([label]: [string, unknown]) => label.includes(values.paths);
    const measured: [string, (c: number) => Promise<Figures>][] = [
      ...proxies,
      ['POST /v1/invoke, embedded', invoke(embedded)],
      ['POST /v1/invoke, NATS', invoke(distributed)],
      ['NATS invoke.request', (c) => loop(seconds, c, natsCall)],
    ];
    const paths: [string, (c: number) => Promise<Figures>][] = [['direct', (c) => wrk(`${upstreamUrl}/ping`, seconds, c, {})], ['bare node proxy', bare], ...measured.filter(chosen)];
    const results: { label: string; one: Figures; many: Figures & { cpuPerCall: number | null } }[] = [];
    for (const [label, measure] of paths) results.push({ label, one: await measure(1), many: await metered(() => measure(connections), seconds, cpuOf.get(label) ?? null) });

    // The same throughput while another process keeps one of the cores busy (a neighbour on a shared machine).
    const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const busy: { label: string; rps: number; cpuPerCall: number | null }[] = [];
    try {
      for (const [label, measure] of [['bare node proxy', bare] as [string, typeof bare], ...proxies.filter(chosen)]) busy.push({ label, ...(await metered(() => measure(connections), seconds, cpuOf.get(label) ?? null)) });
    } finally {
      spinner.kill();
    }

    const [direct, bareFigures] = results;
    const cell = (value: string, width: number) => value.padStart(width);
    const cpu = (perCall: number | null) => cell(perCall === null ? '' : String(Math.round(perCall)), 13);
    process.stdout.write(`${seconds} s per figure; latency with 1 connection, throughput with ${connections}; CPU per call: the proxying processes and their database's backends\n`);
    process.stdout.write(`${'path'.padEnd(28)}${cell('p50 ms', 9)}${cell('p99 ms', 9)}${cell('added p50', 11)}${cell('added p99', 11)}${cell('req/s', 9)}${cell('vs bare', 9)}${cell('CPU µs/call', 13)}\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.label.padEnd(28)}${cell(r.one.p50.toFixed(2), 9)}${cell(r.one.p99.toFixed(2), 9)}${cell((r.one.p50 - direct.one.p50).toFixed(2), 11)}${cell((r.one.p99 - direct.one.p99).toFixed(2), 11)}${cell(String(Math.round(r.many.rps)), 9)}${cell(`${Math.round((100 * r.many.rps) / bareFigures.many.rps)}%`, 9)}${cpu(r.many.cpuPerCall)}\n`,
      );
    }
    process.stdout.write(`with one core kept busy by another process:\n`);
    for (const b of busy) process.stdout.write(`${b.label.padEnd(28)}${cell(String(Math.round(b.rps)), 69)}${cell(`${Math.round((100 * b.rps) / busy[0].rps)}%`, 9)}${cpu(b.cpuPerCall)}\n`);
  } finally {
    await bus.close();
    await embedded.close();
    await distributed.close();
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
