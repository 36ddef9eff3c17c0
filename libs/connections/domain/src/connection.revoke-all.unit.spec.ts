import type { ConnectionEvent } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { connectionDecider, statusFor } from './connection.decider';

const spec = deciderSpec(connectionDecider);
const now = '2026-11-23T10:00:00.000Z';
const later = '2026-11-24T10:00:00.000Z';

const created: ConnectionEvent = {
  type: 'ConnectionCreated',
  data: {
    orgId: 'acme',
    linkName: 'drive',
    name: 'Drive',
    service: { linkName: 'gdrive', type: 'custom', authType: 'oauth2' },
    scopes: ['read'],
    parameters: {},
    useLoginUserCredentials: true,
    internal: false,
    owner: 'alice',
    createdAt: now,
  },
};
const authorized = (userId: string, ref: string): ConnectionEvent => ({
  type: 'ConnectionAuthorized',
  data: { orgId: 'acme', linkName: 'drive', userId, credentialRef: ref, replacesCredentialRef: null, grantedScopes: null, expiresAt: null, authorizedBy: userId, authorizedAt: now },
});
const revoked = (userId: string, ref: string, by = 'alice', reason: 'user' | 'revoked_for_all' = 'revoked_for_all'): ConnectionEvent => ({
  type: 'ConnectionRevoked',
  data: { orgId: 'acme', linkName: 'drive', userId, reason, credentialRef: ref, revokedBy: by, revokedAt: later },
});
const revokeAll = (userId: string, credentialRefs?: string[], byAdmin = false) => ({
  type: 'RevokeConnection' as const,
  data: { orgId: 'acme', userId, linkName: 'drive', reason: 'revoked_for_all' as const, byAdmin, ...(credentialRefs ? { credentialRefs } : {}), now: later },
});
const everyone = [created, authorized('alice', 'ref-a'), authorized('bob', 'ref-b'), authorized('carol', 'ref-c')];

describe('connection decider: the owner revokes every user’s credential (issue #19 item 4)', () => {
  it('revokes each user’s credential in force, one event per user, and each only once', () => {
    spec.given(everyone).when(revokeAll('alice')).then([revoked('alice', 'ref-a'), revoked('bob', 'ref-b'), revoked('carol', 'ref-c')]);
    const after = [...everyone, revoked('alice', 'ref-a'), revoked('bob', 'ref-b'), revoked('carol', 'ref-c')];
    const state = after.reduce(connectionDecider.evolve, connectionDecider.initialState());
    for (const user of ['alice', 'bob', 'carol']) expect(statusFor(state, user)).toBe('revoked');
    // Asked again (a retry, a second click): nothing more is recorded.
    spec.given(after).when(revokeAll('alice')).then([]);
  });

  it('skips one a user revoked already, and keeps one authorized after the credentials it names (as the service-edit saga does)', () => {
    spec
      .given([...everyone, revoked('bob', 'ref-b', 'bob', 'user'), authorized('dave', 'ref-d')])
      .when(revokeAll('alice', ['ref-a', 'ref-b', 'ref-c']))
      .then([revoked('alice', 'ref-a'), revoked('carol', 'ref-c')]);
  });

  it('is the owner’s or an admin’s to do: another member gets not_owner', () => {
    spec.given(everyone).when(revokeAll('bob')).thenFails({ code: 'not_owner' });
    spec.given(everyone).when(revokeAll('erin', undefined, true)).then([revoked('alice', 'ref-a', 'erin'), revoked('bob', 'ref-b', 'erin'), revoked('carol', 'ref-c', 'erin')]);
  });
});
