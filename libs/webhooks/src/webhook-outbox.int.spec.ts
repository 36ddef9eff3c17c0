import { DataSource } from 'typeorm';
import { connectionStreamId, type ConnectionEvent, type WebhookEvent } from '@plugboard/contracts';
import { CatchUpSubscription, EventStore, eventStoreMigrations, type SubscriptionHandler } from '@plugboard/event-store';
import { dataSourceOptions, runMigrations } from '@plugboard/runtime';
import { createTestDatabase, type TestDatabase } from '@plugboard/testing';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookOutbox } from './webhook-outbox';
import type { WebhookSettings } from './webhook-settings';
import { webhookStreamId } from './webhook.decider';
import { webhooksMigrations } from './webhooks.module';

const at = '2026-11-23T10:00:00.000Z';
const ref = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const registered = (orgId: string, events: string[]): WebhookEvent => ({
  type: 'WebhookRegistered',
  data: { orgId, url: `https://hooks.example.com/${orgId}`, events: events as never, secretRef: ref(900), registeredBy: 'alice', registeredAt: at },
});
const revoked = (orgId: string, linkName: string): ConnectionEvent => ({
  type: 'ConnectionRevoked',
  data: { orgId, linkName, userId: null, reason: 'user', credentialRef: ref(1), revokedBy: 'alice', revokedAt: at },
});
const refreshFailed = (orgId: string, definitive: boolean): ConnectionEvent => ({
  type: 'TokenRefreshFailed',
  data: { orgId, linkName: 'crm', userId: null, credentialRef: ref(1), definitive, error: definitive ? 'invalid_grant' : 'network', failedAt: at },
});

describe('webhook outbox and claims (PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  const queued = async () =>
    (await dataSource.query(`SELECT d.org_id, e.data->>'linkName' AS link_name, d.event_type FROM webhook_deliveries d JOIN events e ON e.event_id = d.event_id ORDER BY d.seq`)) as {
      org_id: string;
      link_name: string;
      event_type: string;
    }[];

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url, [...eventStoreMigrations, ...webhooksMigrations]);
    dataSource = await new DataSource(dataSourceOptions({ url: db.url })).initialize();
    store = new EventStore(dataSource);
    await store.append(connectionStreamId('acme', 'before'), 'any', [revoked('acme', 'before')]);
    await store.append(webhookStreamId('acme'), 0, [registered('acme', ['ConnectionRevoked', 'TokenRefreshFailed'])]);
    await store.append(webhookStreamId('globex'), 0, [registered('globex', ['ConnectionDeleted'])]);
    await store.append(connectionStreamId('acme', 'crm'), 'any', [revoked('acme', 'crm'), refreshFailed('acme', false), refreshFailed('acme', true)]);
    await store.append(connectionStreamId('globex', 'other'), 'any', [revoked('globex', 'other')]);
    await store.append(webhookStreamId('acme'), 1, [{ type: 'WebhookRemoved', data: { orgId: 'acme', secretRef: ref(900), removedBy: 'alice', removedAt: at } } satisfies WebhookEvent]);
    await store.append(connectionStreamId('acme', 'after'), 'any', [revoked('acme', 'after')]);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('queues nothing when it crashes before its checkpoint', async () => {
    const real = new WebhookOutbox();
    const crashing: SubscriptionHandler = {
      name: real.name,
      eventTypes: real.eventTypes,
      async handle(events, manager) {
        await real.handle(events, manager);
        throw new Error('the process died here');
      },
    };
    await expect(new CatchUpSubscription(store, crashing).catchUp(2000)).rejects.toThrow('the process died here');
    expect(await queued()).toEqual([]);
  });

  it('after the restart, queues each wanted event of an org while its webhook existed, once', async () => {
    await new CatchUpSubscription(store, new WebhookOutbox()).catchUp();
    // Not: before registration, transient refresh failures, other orgs' events, types not asked for, after removal.
    expect(await queued()).toEqual([
      { org_id: 'acme', link_name: 'crm', event_type: 'ConnectionRevoked' },
      { org_id: 'acme', link_name: 'crm', event_type: 'TokenRefreshFailed' },
    ]);
    // Removal cancelled them, since nothing had sent them yet.
    expect((await dataSource.query(`SELECT DISTINCT status FROM webhook_deliveries`)).map((r: { status: string }) => r.status)).toEqual(['cancelled']);
  });

  it('queues nothing twice when replayed from the start', async () => {
    await dataSource.query(`UPDATE subscription_checkpoints SET transaction_id = '0', position = 0 WHERE name = 'webhooks:outbox'`);
    await new CatchUpSubscription(store, new WebhookOutbox()).catchUp();
    expect(await queued()).toHaveLength(2);
  });

  it('lets replicas claim side by side without sharing a delivery, and gives a dead holder’s back after its claim', async () => {
    await dataSource.query(`DELETE FROM webhook_deliveries`);
    await store.append(webhookStreamId('globex'), 1, [registered('globex', ['ConnectionRevoked'])]);
    for (let i = 0; i < 6; i++) await store.append(connectionStreamId('globex', `c${i}`), 'any', [revoked('globex', `c${i}`)]);
    await new CatchUpSubscription(store, new WebhookOutbox()).catchUp();
    const settings = { claimMs: 300, maxAttempts: 3 } as WebhookSettings;
    const replicas = [new WebhookDeliveries(dataSource, settings), new WebhookDeliveries(dataSource, settings)];
    const [a, b] = await Promise.all(replicas.map((r) => r.claim(4)));
    const ids = [...a, ...b].map((d) => d.eventId);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(await replicas[0].claim(10)).toEqual([]);

    // b delivers its own; a dies. After a's claim runs out b takes its deliveries, and a's late answer changes nothing.
    for (const d of b) await replicas[1].delivered(d, 200);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const retaken = await replicas[1].claim(10);
    expect(retaken.map((d) => d.eventId).sort()).toEqual(a.map((d) => d.eventId).sort());
    expect(retaken.every((d) => d.attempt === 2)).toBe(true);
    await replicas[0].delivered(a[0], 200);
    await replicas[1].failed(retaken[0], 503, 'http_status', 60_000);
    const [row] = await dataSource.query(`SELECT status, attempts, last_status FROM webhook_deliveries WHERE event_id = $1`, [a[0].eventId]);
    expect(row).toEqual({ status: 'pending', attempts: 2, last_status: 503 });
  });

  it('gives up after the last attempt', async () => {
    await dataSource.query(`UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = 2, claim = NULL`);
    const deliveries = new WebhookDeliveries(dataSource, { claimMs: 300, maxAttempts: 3 } as WebhookSettings);
    const [last] = await deliveries.claim(1);
    expect(last.attempt).toBe(3);
    await deliveries.failed(last, 500, 'http_status', 10);
    const [row] = await dataSource.query(`SELECT status FROM webhook_deliveries WHERE event_id = $1`, [last.eventId]);
    expect(row.status).toBe('failed');
  });

  it('pages the delivery log newest first by number, across a power of ten, with no gap and no repeat', async () => {
    // seq 990…1015: read as text, "999" would come before "1015" and the log would stop after ten.
    const seqs = Array.from({ length: 26 }, (_, i) => 990 + i);
    await dataSource.query(
      `INSERT INTO webhook_deliveries (seq, org_id, event_id, event_type, status, next_attempt_at)
       SELECT s, 'paged', gen_random_uuid(), 'ConnectionRevoked', 'delivered', now() FROM unnest($1::bigint[]) AS s`,
      [seqs],
    );
    const deliveries = new WebhookDeliveries(dataSource, { claimMs: 300, maxAttempts: 3 } as WebhookSettings);
    const byEvent = new Map<string, number>(
      (await dataSource.query(`SELECT event_id, seq FROM webhook_deliveries WHERE org_id = 'paged'`)).map((r: { event_id: string; seq: string }) => [r.event_id, Number(r.seq)]),
    );
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await deliveries.list('paged', { cursor, limit: 10 });
      seen.push(...page.items.map((d) => byEvent.get(d.eventId) ?? -1));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...seqs].reverse());
  });
});
