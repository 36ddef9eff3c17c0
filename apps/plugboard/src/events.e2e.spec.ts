import { DataSource } from 'typeorm';
import { connectionStreamId, type ConnectionEvent } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { dataSourceOptions } from '@plugboard/runtime';
import { startTestSystem, type TestSystem } from './test-support/test-system';

interface Item {
  position: number;
  type: string;
  streamId: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

const keyService = {
  name: 'Acme API',
  linkName: 'acme_api',
  authType: 'api_key',
  baseUrl: 'https://api.acme.example',
  apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
};
const API_KEY_VALUE = 'ak-live-5c1f0e-audit-feed-secret';

describe('audit feed: GET /v1/events', () => {
  let sys: TestSystem;
  let admin: string;
  let globex: string;
  let dataSource: DataSource;
  let store: EventStore;

  const feed = (key: string | null, query = '') => sys.call('GET', `/v1/events${query}`, key);
  /** The org's events as the log orders them for readers, straight from the database. */
  const logOrder = async (orgId: string): Promise<number[]> =>
    (await sys.sql(`SELECT global_position FROM events WHERE metadata->>'orgId' = $1 ORDER BY transaction_id, global_position`, [orgId])).map((r) => Number(r.global_position));
  /** Reads on from `after` to what is readable now, page by page through nextCursor. */
  async function follow(key: string, after: number, limit: number): Promise<Item[]> {
    const items: Item[] = [];
    let query = `?after=${after}&limit=${limit}`;
    for (;;) {
      const page = await feed(key, query);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.body.items);
      if (!page.body.nextCursor) return items;
      query = `?cursor=${page.body.nextCursor}&limit=${limit}`;
    }
  }
  const connectionCreated = (linkName: string): ConnectionEvent => ({
    type: 'ConnectionCreated',
    data: {
      orgId: 'acme',
      linkName,
      name: linkName,
      service: { linkName: 'acme_api', type: 'custom', authType: 'api_key' },
      scopes: [],
      parameters: {},
      useLoginUserCredentials: false,
      internal: false,
      owner: 'auditor',
      createdAt: new Date().toISOString(),
    },
  });

  beforeAll(async () => {
    sys = await startTestSystem();
    admin = await sys.key('acme', 'admin');
    globex = await sys.key('globex', 'admin');
    dataSource = await new DataSource(dataSourceOptions({ url: sys.db.url, poolSize: 3 })).initialize();
    store = new EventStore(dataSource);
    expect((await sys.call('POST', '/v1/services', admin, keyService)).status).toBe(201);
    expect((await sys.call('POST', '/v1/services', globex, keyService)).status).toBe(201);
    for (const org of [admin, globex]) {
      expect((await sys.call('POST', '/v1/connections', org, { name: 'CRM', linkName: 'crm', service: 'acme_api' })).status).toBe(201);
      expect((await sys.call('POST', '/v1/connections/crm/authorize', org, { values: { api_key: API_KEY_VALUE } })).status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    await dataSource?.destroy();
    await sys?.close();
  });

  it('needs an API key', async () => {
    const reply = await feed(null);
    expect({ status: reply.status, code: reply.body.error.code }).toEqual({ status: 401, code: 'unauthenticated' });
  });

  it('is for admins only', async () => {
    for (const role of ['member', 'read_only'] as const) {
      const reply = await feed(await sys.key('acme', role));
      expect({ status: reply.status, code: reply.body.error.code }).toEqual({ status: 403, code: 'forbidden' });
      expect(reply.body.error.message).toMatch(/needs the admin role/);
    }
  });

  it('refuses bad paging with validation_failed and a sentence', async () => {
    const [otherOrgsEvent] = await logOrder('globex');
    const cases: [string, RegExp][] = [
      ['?limit=0', /limit: must be between 1 and 200/],
      ['?limit=201', /limit: must be between 1 and 200/],
      ['?after=-1', /after: must be the position of an event you read, or 0/],
      ['?after=abc', /after: must be the position of an event you read, or 0/],
      ['?after=1.5', /after: must be the position of an event you read, or 0/],
      ['?after=99999999', /after: no event of your org has the position 99999999/],
      [`?after=${otherOrgsEvent}`, new RegExp(`after: no event of your org has the position ${otherOrgsEvent}`)],
      ['?cursor=bm90LWEtY3Vyc29y', /cursor: not a cursor this API gave out/],
      ['?after=0&cursor=MS4x', /cursor: give either after or cursor, not both/],
      ['?since=3', /since/],
    ];
    for (const [query, message] of cases) {
      const reply = await feed(admin, query);
      expect({ query, status: reply.status, code: reply.body.error.code }).toEqual({ query, status: 400, code: 'validation_failed' });
      expect(reply.body.error.message).toMatch(message);
    }
  });

  it('shows the org’s events, each {position, type, streamId, data, metadata, recordedAt}, and no other org’s', async () => {
    const items = await follow(admin, 0, 200);
    expect(items.map((i) => i.type)).toEqual(['ServiceCreated', 'ConnectionCreated', 'ConnectionAuthorized']);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['data', 'metadata', 'position', 'recordedAt', 'streamId', 'type']);
      expect(item.metadata.orgId).toBe('acme');
      expect(item.data.orgId).toBe('acme');
      expect(item.streamId).toMatch(/^(service|connection)-acme\./);
    }
    expect(items[2]).toMatchObject({ streamId: 'connection-acme.crm', data: { linkName: 'crm', credentialRef: expect.any(String) }, metadata: { userId: 'alice' } });
    const theirs = await follow(globex, 0, 200);
    expect(theirs.map((i) => i.streamId)).toEqual(['service-globex.acme_api', 'connection-globex.crm', 'connection-globex.crm']);
    expect(JSON.stringify([items, theirs])).not.toContain(API_KEY_VALUE);
  });

  it('pages over more than ten events in log order, with no gap and no repeat, by cursor or by after', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await sys.call('POST', '/v1/connections', admin, { name: `Paged ${i}`, linkName: `paged_${i}`, service: 'acme_api' })).status).toBe(201);
      expect((await sys.call('POST', `/v1/connections/paged_${i}/authorize`, admin, { values: { api_key: API_KEY_VALUE } })).status).toBe(200);
    }
    expect((await sys.call('POST', '/v1/connections/paged_0/revoke', admin)).status).toBe(200);
    const expected = await logOrder('acme');
    expect(expected.length).toBeGreaterThan(10);

    const byCursor = (await follow(admin, 0, 4)).map((i) => i.position);
    expect(byCursor).toEqual(expected);

    // A reader that keeps only the last position it stored, and asks again after it.
    const byAfter: number[] = [];
    for (let after = 0; ; ) {
      const page = await feed(admin, `?after=${after}&limit=3`);
      if (page.body.items.length === 0) break;
      byAfter.push(...page.body.items.map((i: Item) => i.position));
      after = page.body.items[page.body.items.length - 1].position;
    }
    expect(byAfter).toEqual(expected);
    expect(new Set(byAfter).size).toBe(byAfter.length);
    expect((await follow(globex, 0, 2)).every((i) => i.metadata.orgId === 'globex')).toBe(true);
  });

  it('never passes an event whose transaction commits after a later one', async () => {
    const seen = await follow(admin, 0, 200);
    const last = seen[seen.length - 1].position;

    // A command's transaction writes its event (a position is taken) and is still busy when another one commits.
    let release!: () => void;
    let appended!: () => void;
    const inside = new Promise<void>((resolve) => (appended = resolve));
    const late = store.transaction(async (manager) => {
      await store.append(connectionStreamId('acme', 'late_one'), 0, [connectionCreated('late_one')], { manager, metadata: { orgId: 'acme', userId: 'auditor' } });
      appended();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await inside;
    const onTime = await store.append(connectionStreamId('acme', 'on_time'), 0, [connectionCreated('on_time')], { metadata: { orgId: 'acme', userId: 'auditor' } });

    // The committed event waits behind the open transaction: showing it now would let a reader step over the other.
    const whileOpen = await feed(admin, `?after=${last}`);
    expect(whileOpen.status).toBe(200);
    expect(whileOpen.body.items).toEqual([]);

    release();
    await late;
    const after = await follow(admin, last, 200);
    expect(after.map((i) => i.streamId)).toEqual(['connection-acme.late_one', 'connection-acme.on_time']);
    expect(after[0].position).toBeLessThan(onTime.logPosition.position);
    expect(after[1].position).toBe(onTime.logPosition.position);
    expect([...seen, ...after].map((i) => i.position)).toEqual(await logOrder('acme'));
  });
});
