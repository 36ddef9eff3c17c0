import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PLUGBOARD_PROTO_PATH, Subjects } from '@plugboard/contracts';
import { OAuth1Provider } from '@plugboard/oauth1/testing';
import { startAuthorizationServer, type TestAuthorizationServer } from '@plugboard/oauth2/testing';
import { freePort } from '@plugboard/runtime';
import { WORKSPACE_ROOT } from '@plugboard/testing';
import { startTestSystem, type TestSystem } from './test-support/test-system';
import { startUpstream, type Upstream } from './test-support/upstream';

const execFileAsync = promisify(execFile);

type Auth = 'api_key' | 'oauth1' | 'oauth2';
type ParamType = 'query' | 'header' | 'form';
type Kind = 'none' | 'form' | 'json' | 'text' | 'binary';
interface Column {
  auth: Auth;
  paramType: ParamType;
  linkName: string;
}
interface Row {
  kind: Kind;
  method: 'GET' | 'POST';
  contentType?: string;
  body?: string;
}
/** What the API received for one call, whichever local server answered it. */
interface Received {
  method: string;
  query: [string, string][];
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}
type Outcome = { refused: string } | { status: number };

const FORM = 'application/x-www-form-urlencoded';
const ROWS: Row[] = [
  { kind: 'none', method: 'GET' },
  { kind: 'none', method: 'POST' },
  { kind: 'form', method: 'POST', contentType: FORM, body: 'note=a+b%26c&tag=1&tag=2' },
  { kind: 'json', method: 'POST', contentType: 'application/json', body: '{"note":"a b"}' },
  { kind: 'text', method: 'POST', contentType: 'text/plain', body: 'user_key=not-a-form' },
  { kind: 'binary', method: 'POST', contentType: 'application/octet-stream', body: 'PK\u0003\u0004\u00ff' },
];
const COLUMNS: Column[] = [
  ...(['query', 'header', 'form'] as const).map((paramType) => ({ auth: 'api_key' as const, paramType, linkName: `key_${paramType}` })),
  ...(['query', 'header', 'form'] as const).map((paramType) => ({ auth: 'oauth1' as const, paramType, linkName: `oauth1_${paramType}` })),
  ...(['query', 'header'] as const).map((paramType) => ({ auth: 'oauth2' as const, paramType, linkName: `oauth2_${paramType}` })),
];
const KEY = 'key-secret-42';

/**
 * The rule for credentials and the caller's body: never a silent change. Credentials sent as form data go into a form
 * body (the caller's fields kept) or make one where the method has a body; any other body is refused. OAuth 1.0a
 * signs a body-less GET in the query (RFC 5849 §3.5.3); an API key is never moved elsewhere.
 */
function expected(column: Column, row: Row): 'sent' | 'refused' {
  if (column.paramType !== 'form') return 'sent';
  if (row.kind === 'form') return 'sent';
  if (row.kind === 'none') return row.method === 'GET' && column.auth === 'api_key' ? 'refused' : 'sent';
  return 'refused';
}

/** What is wrong with what the API received (an empty list when the call arrived as the rule says). */
function problems(column: Column, row: Row, seen: Received): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string) => ok || out.push(what);
  check(seen.method === row.method, `method ${seen.method}`);
  check(seen.status === 200, `the API answered ${seen.status}`);
  const credentialNames = (name: string) => name === 'user_key' || name.startsWith('oauth_') || name === 'access_token';
  const callerQuery = seen.query.filter(([name]) => !credentialNames(name));
  check(JSON.stringify(callerQuery) === JSON.stringify([['case', callerQuery[0]?.[1] ?? ''], ['page', '2']]), `query ${JSON.stringify(seen.query)}`);
  const contentType = seen.headers['content-type'];
  const formInBody = column.paramType === 'form' && (row.method === 'POST' || column.auth === 'api_key');
  if (formInBody) {
    check(contentType === (row.contentType ?? FORM), `content-type ${contentType}`);
    const pairs = [...new URLSearchParams(seen.body)];
    const caller = pairs.filter(([name]) => !credentialNames(name));
    check(JSON.stringify(caller) === JSON.stringify([...new URLSearchParams(row.body ?? '')]), `caller's form fields ${JSON.stringify(caller)}`);
    // The caller's fields come first, as sent; the credential's are added after them.
    check(pairs.slice(0, caller.length).every(([name]) => !credentialNames(name)), 'credential fields before the caller’s');
  } else {
    check(seen.body === (row.body ?? ''), `body ${JSON.stringify(seen.body)}`);
    check(contentType === row.contentType, `content-type ${contentType}`);
  }
  const inQuery = (name: string) => seen.query.some(([n]) => n === name);
  const inForm = (name: string) => formInBody && new URLSearchParams(seen.body).has(name);
  switch (column.auth) {
    case 'api_key':
      if (column.paramType === 'header') check(seen.headers['x-user-key'] === KEY, 'no X-User-Key header');
      if (column.paramType === 'query') check(seen.query.some(([n, v]) => n === 'user_key' && v === KEY), 'no user_key in the query');
      if (column.paramType === 'form') check(new URLSearchParams(seen.body).get('user_key') === KEY, 'no user_key in the form');
      break;
    case 'oauth2':
      if (column.paramType === 'header') check(/^Bearer \S{20,}$/.test(String(seen.headers.authorization)), 'no bearer header');
      else check(inQuery('access_token'), 'no access_token in the query');
      break;
    case 'oauth1': {
      const where = column.paramType === 'header' ? String(seen.headers.authorization).startsWith('OAuth ') : column.paramType === 'query' || row.method === 'GET' ? inQuery('oauth_signature') : inForm('oauth_signature');
      check(where, `the signature is not where ${column.paramType} (${row.method}) puts it`);
      break;
    }
  }
  return out;
}

describe('the caller’s body: never silently replaced, on every entry (items 1 and 2 of #19)', () => {
  let sys: TestSystem & { publicUrl: string };
  let up: Upstream;
  let as: TestAuthorizationServer;
  let provider: OAuth1Provider;
  let alice: string;
  let grpcAddress: string;
  let cases = 0;

  async function create(service: object, linkName: string) {
    expect((await sys.call('POST', '/v1/services', alice, service)).status).toBe(201);
    expect((await sys.call('POST', '/v1/connections', alice, { name: linkName, linkName, service: linkName })).status).toBe(201);
  }

  beforeAll(async () => {
    up = await startUpstream();
    grpcAddress = `127.0.0.1:${await freePort()}`;
    sys = await startTestSystem({ GRPC_PORT: grpcAddress.split(':')[1] });
    as = await startAuthorizationServer({ redirectUris: [`${sys.publicUrl}/v1/oauth/callback`], accessTokenTtlSeconds: 3600 });
    provider = new OAuth1Provider({ consumers: [{ key: 'ck', secret: 'cs-fidelity' }] });
    const oauth1Base = (await provider.start()).baseUrl;
    alice = await sys.key('acme', 'member');
    for (const column of COLUMNS) {
      const base = { name: column.linkName, linkName: column.linkName, authType: column.auth };
      if (column.auth === 'api_key') {
        const name = column.paramType === 'header' ? 'X-User-Key' : 'user_key';
        await create({ ...base, baseUrl: up.base, apiKey: { params: [{ name, displayName: 'Key', paramType: column.paramType }] } }, column.linkName);
        expect((await sys.call('POST', `/v1/connections/${column.linkName}/authorize`, alice, { values: { [name]: KEY } })).status).toBe(200);
      } else if (column.auth === 'oauth2') {
        const oauth2 = { grantType: 'client_credentials', clientId: as.clients.basic.clientId, clientSecret: as.clients.basic.clientSecret, accessTokenUrl: as.tokenUrl, paramType: column.paramType, scopes: [{ name: 'api:read', displayName: 'Read' }] };
        await create({ ...base, baseUrl: up.base, oauth2 }, column.linkName);
        expect((await sys.call('POST', `/v1/connections/${column.linkName}/authorize`, alice, {})).status).toBe(200);
      } else {
        const oauth1 = { consumerKey: 'ck', consumerSecret: 'cs-fidelity', requestTokenUrl: `${oauth1Base}/oauth/request_token`, authorizeUrl: `${oauth1Base}/oauth/authorize`, accessTokenUrl: `${oauth1Base}/oauth/access_token`, paramType: column.paramType };
        await create({ ...base, baseUrl: oauth1Base, oauth1 }, column.linkName);
        const started = await sys.call('POST', `/v1/connections/${column.linkName}/authorize`, alice, {});
        const approve = await fetch(`${started.body.authorizeUrl}&approve=1`, { redirect: 'manual' });
        // The callback completes in the browser that started the flow (its cookie, once the test system has one).
        expect((await fetch(approve.headers.get('location') as string, { headers: (sys as { browserHeaders?: Record<string, string> }).browserHeaders })).status).toBe(200);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await as?.stop();
    await provider?.stop();
    await sys?.close();
    await up?.close();
  });

  /** The request the API received for a case, from whichever server the service points at; null if none did. */
  function received(column: Column, id: string): Received | null {
    if (column.auth === 'oauth1') {
      const found = provider.requests.find((r) => new URLSearchParams(r.url.split('?')[1] ?? '').get('case') === id);
      return found ? { method: found.method, query: [...new URLSearchParams(found.url.split('?')[1] ?? '')], headers: found.headers, body: found.body, status: found.status } : null;
    }
    const found = up.seen.find((r) => r.query.case === id);
    return found ? { method: found.method, query: [...new URLSearchParams(found.target.split('?')[1] ?? '')], headers: found.headers, body: found.body, status: 200 } : null;
  }

  const invokeInput = (column: Column, row: Row, id: string) => ({
    connection: column.linkName,
    method: row.method,
    url: '/api/echo',
    query: { case: id, page: '2' },
    ...(row.contentType ? { headers: { 'content-type': row.contentType } } : {}),
    ...(row.body === undefined ? {} : { body: row.kind === 'json' ? JSON.parse(row.body) : row.body }),
  });

  type Send = (column: Column, row: Row, id: string) => Promise<Outcome>;
  const entries: Record<string, Send> = {
    'POST /v1/invoke': async (column, row, id) => {
      const reply = await sys.call('POST', '/v1/invoke', alice, invokeInput(column, row, id));
      return reply.status === 200 ? { status: reply.body.status } : { refused: `${reply.status} ${reply.body.error.code}` };
    },
    '/v1/proxy': async (column, row, id) => {
      const headers: Record<string, string> = { authorization: `Bearer ${alice}`, 'x-user-id': 'alice', ...(row.contentType ? { 'content-type': row.contentType } : {}) };
      const response = await fetch(`${sys.publicUrl}/v1/proxy/${column.linkName}/api/echo?case=${id}&page=2`, { method: row.method, headers, body: row.body });
      const answer = JSON.parse(await response.text());
      // Plugboard's own refusals are {"error": {code, message}}; the APIs here answer {"ok": …}.
      return answer.error?.code ? { refused: `${response.status} ${answer.error.code}` } : { status: response.status };
    },
    'NATS invoke.request': async (column, row, id) => {
      try {
        const reply = await sys.rpc.request(Subjects.invoke.request, { actor: { orgId: 'acme', userId: 'alice' }, invoke: invokeInput(column, row, id) as never });
        return { status: reply.status };
      } catch (error) {
        return { refused: `bus ${(error as { code: string }).code}` };
      }
    },
  };

  /** The gRPC entry runs every case from one separate process that knows only the .proto. */
  async function grpcAll(calls: { column: Column; row: Row; id: string }[]): Promise<Outcome[]> {
    const requests = calls.map(({ column, row, id }) => {
      const input = invokeInput(column, row, id);
      const body = row.body === undefined ? {} : row.kind === 'json' ? { body_json: row.body } : { body_text: row.body };
      return { rpc: 'Invoke', request: { connection: input.connection, method: input.method, url: input.url, query: input.query, headers: input.headers ?? {}, ...body }, metadata: { authorization: `Bearer ${alice}`, 'x-user-id': 'alice' } };
    });
    const entry = path.join('apps/plugboard/src/test-support/grpc-client.ts');
    const { stdout } = await execFileAsync(process.execPath, ['tools/run.js', entry, PLUGBOARD_PROTO_PATH, grpcAddress, JSON.stringify(requests)], { cwd: WORKSPACE_ROOT, timeout: 60_000 });
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .map((answer) => (answer.ok ? { status: answer.response.status } : { refused: `grpc ${answer.metadata['plugboard-error-code']}` }));
  }

  /** Every pair of body kind and param type, for each auth type: a line per case that did not go as the rule says. */
  function judge(calls: { column: Column; row: Row; id: string }[], outcomes: Outcome[], refusal: RegExp): string[] {
    const wrong: string[] = [];
    calls.forEach(({ column, row, id }, i) => {
      const label = `${column.auth}/${column.paramType} ${row.method} ${row.kind}`;
      const outcome = outcomes[i];
      const seen = received(column, id);
      if (expected(column, row) === 'refused') {
        if (!('refused' in outcome) || !refusal.test(outcome.refused)) wrong.push(`${label}: expected a refusal, got ${JSON.stringify(outcome)}`);
        if (seen) wrong.push(`${label}: refused, but the API received it`);
        return;
      }
      if (!seen) return void wrong.push(`${label}: the API received nothing (${JSON.stringify(outcome)})`);
      for (const problem of problems(column, row, seen)) wrong.push(`${label}: ${problem}`);
      if ('refused' in outcome || outcome.status !== 200) wrong.push(`${label}: answered ${JSON.stringify(outcome)}`);
    });
    return wrong;
  }

  const matrix = () => COLUMNS.flatMap((column) => ROWS.map((row) => ({ column, row, id: `c${++cases}` })));

  it.each(Object.keys(entries))('%s: each body kind with each param type and auth type', async (name) => {
    const calls = matrix();
    const outcomes: Outcome[] = [];
    for (const { column, row, id } of calls) outcomes.push(await entries[name](column, row, id));
    const refusal = name === 'NATS invoke.request' ? /^bus form_body_required$/ : /^400 form_body_required$/;
    expect(judge(calls, outcomes, refusal)).toEqual([]);
  });

  it('gRPC Invoke: each body kind with each param type and auth type', async () => {
    const calls = matrix();
    expect(judge(calls, await grpcAll(calls), /^grpc form_body_required$/)).toEqual([]);
  });

  it('OAuth 1.0a: a provider that reuses a request token gets authorization_failed, not a 500', async () => {
    provider.reuseRequestTokens = true;
    try {
      // The provider answers with the request token it issued for the last authorization in beforeAll.
      const again = await sys.call('POST', '/v1/connections/oauth1_query/authorize', alice, {});
      expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 502, code: 'authorization_failed' });
      expect(again.body.error.message).toMatch(/already issued/);
    } finally {
      provider.reuseRequestTokens = false;
    }
  });

  it('refuses with a sentence naming the param type, and a caller’s field where the credential goes', async () => {
    const json = await sys.call('POST', '/v1/invoke', alice, { connection: 'key_form', method: 'POST', url: '/x', body: { a: 1 } });
    expect(json).toEqual({ status: 400, body: { error: { code: 'form_body_required', message: expect.stringMatching(/API key as form data \(param type "form"\).*application\/json/) } } });
    const get = await sys.call('POST', '/v1/invoke', alice, { connection: 'key_form', method: 'GET', url: '/x' });
    expect(get.body.error).toEqual({ code: 'form_body_required', message: expect.stringContaining('GET request has no body') });
    const clash = await sys.call('POST', '/v1/invoke', alice, { connection: 'key_form', method: 'POST', url: '/x', headers: { 'content-type': FORM }, body: 'user_key=mine' });
    expect(clash.body.error).toEqual({ code: 'credential_param_conflict', message: expect.stringContaining('form field "user_key"') });
    const query = await sys.call('POST', '/v1/invoke', alice, { connection: 'oauth2_query', method: 'GET', url: '/x?access_token=mine' });
    expect(query.body.error.code).toBe('credential_param_conflict');
    const signed = await sys.call('POST', '/v1/invoke', alice, { connection: 'oauth1_header', method: 'GET', url: '/api/echo', query: { oauth_nonce: 'mine' } });
    expect({ status: signed.status, code: signed.body.error.code }).toEqual({ status: 400, code: 'credential_param_conflict' });
    expect(JSON.stringify([json, get, clash, query, signed])).not.toContain(KEY);
  });
});
