import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Plugboard, PlugboardError, type ApiKeyView, type ConnectionView, type Page, type ServiceView } from '@plugboard/sdk';
import { details, table, type Column } from './output';

/** A usage mistake: exit code 2 and the command's usage line. */
class UsageError extends Error {}

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  user: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  all: { type: 'boolean' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  type: { type: 'string' },
  'auth-type': { type: 'string' },
  q: { type: 'string' },
  view: { type: 'string' },
  data: { type: 'string', short: 'd' },
  name: { type: 'string' },
  'link-name': { type: 'string' },
  service: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'login-user': { type: 'boolean' },
  value: { type: 'string', multiple: true },
  username: { type: 'string' },
  'return-url': { type: 'string' },
  header: { type: 'string', multiple: true, short: 'H' },
  query: { type: 'string', multiple: true },
  role: { type: 'string' },
  label: { type: 'string' },
  person: { type: 'string' },
} as const;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
type Option = keyof typeof OPTIONS;
const GLOBAL: Option[] = ['url', 'key', 'user', 'json', 'help'];

/** What a command printed: the same result as JSON (`--json`) or for a person. */
interface Output {
  json: unknown;
  human: string;
}

interface Command {
  usage: string;
  /** Positional arguments after the command words. */
  args: number;
  options: Option[];
  run(pb: Plugboard, args: string[], values: Values): Promise<Output>;
}

const serviceColumns: Column<ServiceView>[] = [
  { heading: 'link name', value: (s) => s.linkName },
  { heading: 'name', value: (s) => s.name },
  { heading: 'type', value: (s) => s.type },
  { heading: 'auth', value: (s) => s.authType },
  { heading: 'connections', value: (s) => s.connectionCount },
  { heading: 'owner', value: (s) => s.owner },
];
const connectionColumns: Column<ConnectionView>[] = [
  { heading: 'link name', value: (c) => c.linkName },
  { heading: 'name', value: (c) => c.name },
  { heading: 'service', value: (c) => c.service },
  { heading: 'status', value: (c) => (c.revokedReason ? `${c.status} (${c.revokedReason})` : c.status) },
  { heading: 'owner', value: (c) => c.owner },
  { heading: 'updated', value: (c) => c.updatedAt },
];
const keyColumns: Column<ApiKeyView>[] = [
  { heading: 'id', value: (k) => k.id },
  { heading: 'role', value: (k) => k.role },
  { heading: 'acts as', value: (k) => k.user ?? 'any user (product)' },
  { heading: 'prefix', value: (k) => `${k.prefix}…` },
  { heading: 'label', value: (k) => k.label },
  { heading: 'created', value: (k) => k.createdAt },
  { heading: 'revoked', value: (k) => k.revokedAt },
];

const LIST = ['all', 'limit', 'cursor'] as Option[];

/** `--data`: JSON inline, `@file`, or `-` for standard input (keeps secrets out of the shell history). */
function readData(data: string): string {
  if (data !== '-' && !data.startsWith('@')) return data;
  try {
    return readFileSync(data === '-' ? 0 : data.slice(1), 'utf8');
  } catch (error) {
    throw new UsageError(`--data ${data}: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

function jsonData(values: Values, required: true): object;
function jsonData(values: Values, required: false): object | undefined;
function jsonData(values: Values, required: boolean): object | undefined {
  if (values.data === undefined) {
    if (required) throw new UsageError('--data is required: the request body as JSON, @file.json, or - for standard input.');
    return undefined;
  }
  try {
    return JSON.parse(readData(values.data)) as object;
  } catch (error) {
    throw new UsageError(`--data is not JSON: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** `name=value` (or `name:value` for headers) pairs into an object. */
function pairs(list: string[] | undefined, separator: '=' | ':', flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const record: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf(separator);
    if (at < 1) throw new UsageError(`--${flag} takes name${separator}value, not "${item}".`);
    record[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return record;
}

function limit(values: Values): number | undefined {
  if (values.limit === undefined) return undefined;
  const n = Number(values.limit);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('--limit must be a whole number of at least 1.');
  return n;
}

/** One page (with a hint to the next one), or every page with --all. */
async function list<T>(values: Values, page: (cursor: string | undefined) => Promise<Page<T>>, every: () => AsyncIterable<T>, columns: Column<T>[]): Promise<Output> {
  if (values.all) {
    const items: T[] = [];
    for await (const item of every()) items.push(item);
    return { json: items, human: table(items, columns) };
  }
  const result = await page(values.cursor);
  const more = result.nextCursor ? `(more: --cursor ${result.nextCursor}, or --all)\n` : '';
  return { json: result, human: table(result.items, columns) + more };
}

const one = (record: object): Output => ({ json: record, human: details(record) });
const done = (sentence: string): Output => ({ json: { ok: true }, human: `${sentence}\n` });

const COMMANDS: Record<string, Command> = {
  'services list': {
    usage: 'services list [--type predefined|custom] [--auth-type api_key|basic|oauth1|oauth2] [--q text] [--limit n] [--cursor c | --all]',
    args: 0,
    options: [...LIST, 'type', 'auth-type', 'q'],
    run: (pb, _, v) => {
      const filters = { type: v.type as never, authType: v['auth-type'] as never, q: v.q, limit: limit(v) };
      return list(v, (cursor) => pb.services.list({ ...filters, cursor }), () => pb.services.listAll(filters), serviceColumns);
    },
  },
  'services get': { usage: 'services get <linkName>', args: 1, options: [], run: async (pb, [linkName]) => one(await pb.services.get(linkName)) },
  'services create': {
    usage: "services create --data '<service JSON>' | @file.json | -",
    args: 0,
    options: ['data'],
    run: async (pb, _, v) => one(await pb.services.create(jsonData(v, true) as never)),
  },
  'services edit': {
    usage: "services edit <linkName> --data '<changes JSON>'",
    args: 1,
    options: ['data'],
    run: async (pb, [linkName], v) => one(await pb.services.edit(linkName, jsonData(v, true) as never)),
  },
  'services delete': {
    usage: 'services delete <linkName>',
    args: 1,
    options: [],
    run: async (pb, [linkName]) => {
      await pb.services.delete(linkName);
      return done(`Deleted the service ${linkName}.`);
    },
  },
  'connections list': {
    usage: 'connections list [--view own|shared|internal] [--limit n] [--cursor c | --all]',
    args: 0,
    options: [...LIST, 'view'],
    run: (pb, _, v) => {
      const filters = { view: v.view as never, limit: limit(v) };
      return list(v, (cursor) => pb.connections.list({ ...filters, cursor }), () => pb.connections.listAll(filters), connectionColumns);
    },
  },
  'connections get': { usage: 'connections get <linkName>', args: 1, options: [], run: async (pb, [linkName]) => one(await pb.connections.get(linkName)) },
  'connections create': {
    usage: 'connections create --name <name> --link-name <linkName> --service <service> [--scope s]… [--login-user]  (or --data <JSON>)',
    args: 0,
    options: ['data', 'name', 'link-name', 'service', 'scope', 'login-user'],
    run: async (pb, _, v) => {
      const given = jsonData(v, false);
      if (!given && (!v['link-name'] || !v.service)) throw new UsageError('--link-name and --service are required (or the whole body as --data).');
      const body = given ?? { name: v.name ?? v['link-name'], linkName: v['link-name'], service: v.service, scopes: v.scope, useLoginUserCredentials: v['login-user'] };
      return one(await pb.connections.create(body as never));
    },
  },
  'connections edit': {
    usage: 'connections edit <linkName> [--name <name>] [--scope s]…  (or --data <JSON>)',
    args: 1,
    options: ['data', 'name', 'scope'],
    run: async (pb, [linkName], v) => one(await pb.connections.edit(linkName, (jsonData(v, false) ?? { name: v.name, scopes: v.scope }) as never)),
  },
  'connections delete': {
    usage: 'connections delete <linkName>',
    args: 1,
    options: [],
    run: async (pb, [linkName]) => {
      await pb.connections.delete(linkName);
      return done(`Deleted the connection ${linkName}.`);
    },
  },
  'connections authorize': {
    usage: 'connections authorize <linkName> [--value name=value]… [--username u] [--return-url url]  (or --data <JSON> | -, best for secrets)',
    args: 1,
    options: ['data', 'value', 'username', 'return-url'],
    run: async (pb, [linkName], v) => {
      const body = jsonData(v, false) ?? { values: pairs(v.value, '=', 'value'), username: v.username, returnUrl: v['return-url'] };
      const result = await pb.connections.authorize(linkName, body as never);
      if ('authorizeUrl' in result) return { json: result, human: `Open this page to authorize ${linkName}:\n${result.authorizeUrl}\n` };
      return { json: result, human: details(result.connection) };
    },
  },
  'connections revoke': { usage: 'connections revoke <linkName>', args: 1, options: [], run: async (pb, [linkName]) => one(await pb.connections.revoke(linkName)) },
  'connections snippet': {
    usage: 'connections snippet <linkName>',
    args: 1,
    options: [],
    run: async (pb, [linkName]) => {
      const snippets = await pb.connections.snippet(linkName);
      const human = Object.entries(snippets)
        .filter(([, text]) => text !== null)
        .map(([kind, text]) => `# ${kind}\n${text}\n`)
        .join('\n');
      return { json: snippets, human };
    },
  },
  invoke: {
    usage: 'invoke <linkName> <METHOD> <url> [-H name:value]… [--query name=value]… [--data <JSON or text> | @file | -]',
    args: 3,
    options: ['header', 'query', 'data'],
    run: async (pb, [connection, method, url], v) => {
      let body: unknown;
      if (v.data !== undefined) {
        const text = readData(v.data);
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const answer = await pb.invoke({ connection, method, url, headers: pairs(v.header, ':', 'header'), query: pairs(v.query, '=', 'query'), body });
      const shown = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2);
      return { json: answer, human: `HTTP ${answer.status}\n${shown}${shown.endsWith('\n') ? '' : '\n'}` };
    },
  },
  'keys list': {
    usage: 'keys list',
    args: 0,
    options: [],
    run: async (pb) => {
      const keys = await pb.keys.list();
      return { json: keys, human: table(keys, keyColumns) };
    },
  },
  'keys create': {
    usage: 'keys create --role admin|member|read_only [--person <user id>] [--label text]',
    args: 0,
    options: ['role', 'label', 'person'],
    run: async (pb, _, v) => {
      if (!v.role) throw new UsageError('--role is required: admin, member or read_only.');
      // --person makes a person's key (it acts as that user only); without it, a product's key (it names its users).
      const subject = v.person === undefined ? { actAs: 'any' as const } : { user: v.person };
      const created = await pb.keys.create({ role: v.role as never, ...subject, label: v.label });
      const who = created.apiKey.user === null ? 'product key (acts for the user X-User-Id names)' : `key for ${created.apiKey.user} (acts as that user only)`;
      return { json: created, human: `${created.key}\nCreated a ${created.apiKey.role} ${who}, id ${created.apiKey.id}. It is shown only this once.\n` };
    },
  },
  'keys revoke': { usage: 'keys revoke <keyId>', args: 1, options: [], run: async (pb, [keyId]) => one(await pb.keys.revoke(keyId)) },
};

export const USAGE = `usage: plugboard <command> [options]

${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}

Options for every command:
  --url <url>    the gateway (PLUGBOARD_URL; http://localhost:3000)
  --key <key>    an API key of your org (PLUGBOARD_API_KEY; else .plugboard/api-key of an embedded start)
  --user <id>    the user to act for (X-User-Id; the key itself when absent)
  --json         print the result as JSON instead of a table
`;

/** The API key: --key, PLUGBOARD_API_KEY, or the one an embedded `npm start` wrote. Never printed. */
function apiKey(values: Values, env: NodeJS.ProcessEnv): string {
  if (values.key) return values.key;
  if (env.PLUGBOARD_API_KEY) return env.PLUGBOARD_API_KEY;
  const file = path.join(env.PLUGBOARD_HOME ?? '.plugboard', 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new UsageError('No API key: pass --key, or set PLUGBOARD_API_KEY.');
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** The command a command line names, its arguments after the command words, and its options. */
function parse(argv: string[]): { name: string; command: Command; args: string[]; values: Values } | { help: true; values: Values } {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, tokens: true });
  const name = [positionals.slice(0, 2).join(' '), positionals[0]].find((n) => n && n in COMMANDS);
  if (!name) {
    if (values.help || positionals.length === 0) return { help: true, values };
    throw new UsageError(`Unknown command "${positionals.slice(0, 2).join(' ')}".`);
  }
  const command = COMMANDS[name];
  const args = positionals.slice(name.split(' ').length);
  const allowed = new Set<string>([...GLOBAL, ...command.options]);
  const stray = tokens.find((t) => t.kind === 'option' && !allowed.has(t.name));
  if (stray?.kind === 'option') throw Object.assign(new UsageError(`"${name}" takes no --${stray.name}.`), { command });
  if (!values.help && args.length !== command.args) {
    throw Object.assign(new UsageError(`"${name}" takes ${command.args} argument${command.args === 1 ? '' : 's'}, not ${args.length}.`), { command });
  }
  return { name, command, args, values };
}

function client(values: Values, env: NodeJS.ProcessEnv): Plugboard {
  try {
    return new Plugboard({ baseUrl: values.url ?? env.PLUGBOARD_URL ?? 'http://localhost:3000', apiKey: apiKey(values, env), userId: values.user });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Runs one command line; resolves with the exit code: 0 done, 1 Plugboard refused (or could not be reached), 2 usage. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let json = argv.includes('--json');
  try {
    const parsed = parse(argv);
    json = Boolean(parsed.values.json);
    if ('help' in parsed) {
      io.out(USAGE);
      return 0;
    }
    if (parsed.values.help) {
      io.out(`usage: plugboard ${parsed.command.usage}\n`);
      return 0;
    }
    const output = await parsed.command.run(client(parsed.values, env), parsed.args, parsed.values);
    io.out(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.human);
    return 0;
  } catch (error) {
    if (error instanceof PlugboardError) {
      const { code, status, message, details } = error;
      if (json) io.err(`${JSON.stringify({ error: { code, status, message, ...(details ? { details } : {}) } })}\n`);
      else io.err(`error: ${message} (${code}${status ? `, HTTP ${status}` : ''})\n${(details ?? []).map((d) => `  ${d.path}: ${d.message}\n`).join('')}`);
      return 1;
    }
    // parseArgs' own refusals (an unknown option, a missing value) are usage mistakes too.
    const parseMistake = error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || parseMistake) {
      const command = (error as { command?: Command }).command;
      io.err(`error: ${(error as Error).message}\n${command ? `usage: plugboard ${command.usage}` : 'Run plugboard --help for the commands.'}\n`);
      return 2;
    }
    throw error;
  }
}
