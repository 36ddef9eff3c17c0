/**
 * Commands through the API, read-your-writes included: each client creates a custom API-key service, creates a
 * connection of it, authorizes the connection with a key, and after each command reads the resource back with a GET
 * that must already show it (the service, the connection, status `connected`): an operation is the command and its
 * read. With 1 client (latency) and 16 (throughput), on the compiled apps, embedded (one process, in-process bus) and
 * distributed (gateway + NATS + the apps in processes of their own), all in one run. The peer: a read alone (GET of an
 * existing service) through the same gateway, the floor an operation cannot go below.
 *   npm run bench:commands -- --seconds 10 --clients 16
 * Needs the PostgreSQL and NATS of the development machines (as the tests do); builds dist/ when it is missing.
 */
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { drive, startDistributed, startEmbedded, type Deployment, type Figures } from '../support/plugboard';

const COMMANDS = ['create service', 'create connection', 'authorize (API key)'] as const;
type Command = (typeof COMMANDS)[number];

/** What the bench reads of an answer: the fields it checks. */
interface Answer {
  status: number;
  body: { linkName?: string; status?: string } | null;
}

/** One keep-alive pool for every client, as a product's backend would hold. */
const dispatcher = new Agent({ connections: 64, pipelining: 1 });

async function call(deployment: Deployment, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${deployment.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${deployment.key}`, 'x-user-id': 'bench', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher,
  } as RequestInit);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function expect(what: string, reply: Answer, status: number, check: (body: NonNullable<Answer['body']>) => boolean = () => true): void {
  if (reply.status !== status || !check(reply.body ?? {})) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
}

/** The command `kind` for the `n`th resource of a client, then its read, which must show what the command did. */
async function operate(deployment: Deployment, kind: Command, name: string): Promise<void> {
  if (kind === 'create service') {
    const service = { name, linkName: name, authType: 'api_key', baseUrl: 'https://api.example.com', apiKey: { params: [{ name: 'X-Key', displayName: 'Key', paramType: 'header' }] } };
    expect(kind, await call(deployment, 'POST', '/v1/services', service), 201);
    expect(`${kind}, read`, await call(deployment, 'GET', `/v1/services/${name}`), 200, (b) => b.linkName === name);
  } else if (kind === 'create connection') {
    expect(kind, await call(deployment, 'POST', '/v1/connections', { name, linkName: name, service: name }), 201);
    expect(`${kind}, read`, await call(deployment, 'GET', `/v1/connections/${name}`), 200, (b) => b.linkName === name && b.status === 'pending');
  } else {
    expect(kind, await call(deployment, 'POST', `/v1/connections/${name}/authorize`, { values: { 'X-Key': 'k' } }), 200);
    expect(`${kind}, read`, await call(deployment, 'GET', `/v1/connections/${name}`), 200, (b) => b.status === 'connected');
  }
}

async function measure(deployment: Deployment, seconds: number, clients: number, run: string): Promise<Map<string, Figures>> {
  const figures = new Map<string, Figures>();
  // Each command acts on what the one before made: a service per (client, i), then its connection, then its key.
  const names = (client: number, i: number) => `b${run}_${client}_${i < 0 ? `w${-i}` : i}`;
  // How many resources each client made with the command before: the next command uses each of them once.
  let made = new Map<number, number>();
  for (const kind of COMMANDS) {
    const before = made;
    const now = new Map<number, number>();
    const limit = kind === COMMANDS[0] ? undefined : (client: number) => before.get(client) ?? 0;
    const operation = async (client: number, i: number) => {
      await operate(deployment, kind, names(client, i));
      if (i >= 0) now.set(client, i + 1);
    };
    figures.set(kind, await drive(seconds, clients, operation, { limit }));
    made = now;
  }
  figures.set('read alone (peer)', await drive(seconds, clients, () => call(deployment, 'GET', `/v1/services/${names(0, 0)}`).then((r) => expect('read', r, 200))));
  return figures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '16' } } });
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  const rows: string[] = [];
  for (const [mode, start] of [
    ['embedded', startEmbedded],
    ['gateway + NATS', startDistributed],
  ] as const) {
    const deployment = await start();
    try {
      const one = await measure(deployment, seconds, 1, 'a');
      const many = await measure(deployment, seconds, clients, 'b');
      for (const [kind, figures] of one) {
        const rate = many.get(kind)?.rate ?? NaN;
        rows.push(`${mode.padEnd(16)}${kind.padEnd(22)}${figures.p50.toFixed(2).padStart(9)}${figures.p99.toFixed(2).padStart(9)}${String(Math.round(figures.rate)).padStart(9)}${String(Math.round(rate)).padStart(9)}`);
      }
    } finally {
      await deployment.close();
    }
  }
  process.stdout.write(`${seconds} s per figure; an operation is the command and a GET that must show it; 1 client, then ${clients}\n`);
  process.stdout.write(`${'mode'.padEnd(16)}${'operation'.padEnd(22)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'1 op/s'.padStart(9)}${`${clients} op/s`.padStart(9)}\n`);
  process.stdout.write(`${rows.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
