import type { WebhookEvent } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { webhookDecider, webhookView } from './webhook.decider';

const spec = deciderSpec(webhookDecider);
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-24T10:00:00.000Z';
const ref = '00000000-0000-4000-8000-000000000001';
const fresh = '00000000-0000-4000-8000-000000000002';

const register = (input: { url: string; events?: string[] }, at = now, secretRef = ref) => ({
  type: 'RegisterWebhook' as const,
  data: { orgId: 'acme', userId: 'alice', input: input as never, secretRef, now: at },
});
const registered = (url: string, events: string[], at = now): WebhookEvent => ({
  type: 'WebhookRegistered',
  data: { orgId: 'acme', url, events: events as never, secretRef: ref, registeredBy: 'alice', registeredAt: at },
});
const ALL = ['ConnectionAuthorized', 'TokenRefreshed', 'TokenRefreshFailed', 'ConnectionRevoked', 'ConnectionDeleted', 'ServiceEdited', 'ReauthorizationRequired', 'ConnectionDegraded', 'ConnectionRecovered'];

describe('webhook decider', () => {
  it('registers a webhook for every auth event when none are chosen', () => {
    spec.given([]).when(register({ url: 'https://hooks.example.com/a' })).then([registered('https://hooks.example.com/a', ALL)]);
  });

  it('keeps the chosen events once each, in catalogue order', () => {
    spec
      .given([])
      .when(register({ url: 'https://hooks.example.com/a', events: ['ServiceEdited', 'ConnectionRevoked', 'ServiceEdited'] }))
      .then([registered('https://hooks.example.com/a', ['ConnectionRevoked', 'ServiceEdited'])]);
  });

  it('can send only the health changes of connections', () => {
    spec
      .given([])
      .when(register({ url: 'https://hooks.example.com/a', events: ['ConnectionRecovered', 'ConnectionDegraded'] }))
      .then([registered('https://hooks.example.com/a', ['ConnectionDegraded', 'ConnectionRecovered'])]);
  });

  it('replaces a registration in place: the secret goes to the same vault entry, the creation time stays', () => {
    const past = [registered('https://hooks.example.com/a', ALL)];
    spec
      .given(past)
      .when(register({ url: 'https://hooks.example.com/b' }, later, fresh))
      .then([registered('https://hooks.example.com/b', ALL, later)]);
    const state = [...past, registered('https://hooks.example.com/b', ALL, later)].reduce(webhookDecider.evolve, webhookDecider.initialState());
    expect(webhookView(state)).toEqual({ url: 'https://hooks.example.com/b', events: ALL, createdAt: now, updatedAt: later, secretRotatedAt: later });
  });

  it('rotates the secret of a registered webhook only', () => {
    spec
      .given([registered('https://hooks.example.com/a', ALL)])
      .when({ type: 'RotateWebhookSecret', data: { orgId: 'acme', userId: 'bob', now: later } })
      .then([{ type: 'WebhookSecretRotated', data: { orgId: 'acme', secretRef: ref, rotatedBy: 'bob', rotatedAt: later } }]);
    spec.given([]).when({ type: 'RotateWebhookSecret', data: { orgId: 'acme', userId: 'bob', now: later } }).thenFails({ code: 'webhook_not_found' });
  });

  it('removes a registered webhook, naming the vault entry to erase; a second removal is webhook_not_found', () => {
    const removed: WebhookEvent = { type: 'WebhookRemoved', data: { orgId: 'acme', secretRef: ref, removedBy: 'alice', removedAt: later } };
    spec
      .given([registered('https://hooks.example.com/a', ALL)])
      .when({ type: 'RemoveWebhook', data: { orgId: 'acme', userId: 'alice', now: later } })
      .then([removed]);
    spec
      .given([registered('https://hooks.example.com/a', ALL), removed])
      .when({ type: 'RemoveWebhook', data: { orgId: 'acme', userId: 'alice', now: later } })
      .thenFails({ code: 'webhook_not_found' });
  });

  it('registers anew after a removal, with a new vault entry and creation time', () => {
    const removed: WebhookEvent = { type: 'WebhookRemoved', data: { orgId: 'acme', secretRef: ref, removedBy: 'alice', removedAt: later } };
    spec
      .given([registered('https://hooks.example.com/a', ALL), removed])
      .when(register({ url: 'https://hooks.example.com/c' }, later, fresh))
      .then([{ type: 'WebhookRegistered', data: { orgId: 'acme', url: 'https://hooks.example.com/c', events: ALL as never, secretRef: fresh, registeredBy: 'alice', registeredAt: later } }]);
  });
});
