import { SYSTEM_ACTOR, type ConnectionEvent } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { connectionDecider, type ConnectionCommand } from './connection.decider';

const spec = deciderSpec(connectionDecider);
const at = '2026-11-23T10:00:00.000Z';
const now = '2026-11-24T10:00:00.000Z';
const inAnHour = '2026-11-24T11:00:00.000Z';
const [first, second] = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];

const created = (useLoginUserCredentials = false): ConnectionEvent => ({
  type: 'ConnectionCreated',
  data: {
    orgId: 'acme',
    linkName: 'crm',
    name: 'CRM',
    service: { linkName: 'crm', type: 'custom', authType: 'oauth2' },
    scopes: [],
    parameters: {},
    useLoginUserCredentials,
    internal: false,
    owner: 'alice',
    createdAt: at,
  },
});
const authorized = (credentialRef: string, replaces: string | null = null, userId: string | null = null): ConnectionEvent => ({
  type: 'ConnectionAuthorized',
  data: { orgId: 'acme', linkName: 'crm', userId, credentialRef, replacesCredentialRef: replaces, grantedScopes: null, expiresAt: at, authorizedBy: userId ?? 'alice', authorizedAt: at },
});
const revoked = (credentialRef: string): ConnectionEvent => ({
  type: 'ConnectionRevoked',
  data: { orgId: 'acme', linkName: 'crm', userId: null, reason: 'user', credentialRef, revokedBy: 'alice', revokedAt: at },
});
const deleted: ConnectionEvent = { type: 'ConnectionDeleted', data: { orgId: 'acme', linkName: 'crm', service: 'crm', credentialRefs: [first], deletedBy: 'alice', deletedAt: at } };
const about = (credentialRef = first, userId: string | null = null) => ({ orgId: 'acme', linkName: 'crm', userId, credentialRef, now });

const refreshResult = (refreshes = 0, credentialRef = first, userId: string | null = null): ConnectionCommand => ({
  type: 'RecordTokenRefresh',
  data: { ...about(credentialRef, userId), expiresAt: inAnHour, refreshTokenRotated: true, refreshes },
});
const tokenRefreshed = (credentialRef = first, userId: string | null = null): ConnectionEvent => ({
  type: 'TokenRefreshed',
  data: { orgId: 'acme', linkName: 'crm', userId, credentialRef, expiresAt: inAnHour, refreshTokenRotated: true, refreshedAt: now },
});
const refreshFailed = (definitive: boolean, error: string, credentialRef = first): ConnectionEvent => ({
  type: 'TokenRefreshFailed',
  data: { orgId: 'acme', linkName: 'crm', userId: null, credentialRef, definitive, error, failedAt: now },
});
const revokedBySystem = (reason: 'refresh_failed' | 'verification_failed', userId: string | null = null): ConnectionEvent => ({
  type: 'ConnectionRevoked',
  data: { orgId: 'acme', linkName: 'crm', userId, reason, credentialRef: first, revokedBy: SYSTEM_ACTOR, revokedAt: now },
});

describe('connection decider: a refresh result', () => {
  it('records TokenRefreshed for the credential in force', () => {
    spec.given([created(), authorized(first)]).when(refreshResult()).then([tokenRefreshed()]);
  });

  it('names the user whose credential it is', () => {
    spec.given([created(true), authorized(first, null, 'bob')]).when(refreshResult(0, first, 'bob')).then([tokenRefreshed(first, 'bob')]);
  });

  it('is refused and writes nothing when the credential was replaced, revoked or deleted meanwhile', () => {
    spec.given([created(), authorized(first), authorized(second, first)]).when(refreshResult()).then([]);
    spec.given([created(), authorized(first), revoked(first)]).when(refreshResult()).then([]);
    spec.given([created(), authorized(first), deleted]).when(refreshResult()).then([]);
  });

  it('of two concurrent refreshes (both read the same count), only the first becomes TokenRefreshed', () => {
    spec.given([created(), authorized(first), tokenRefreshed()]).when(refreshResult(0)).then([]);
    spec.given([created(), authorized(first), tokenRefreshed()]).when(refreshResult(1)).then([tokenRefreshed()]);
  });

  it('counts from zero again for a new authorization', () => {
    spec.given([created(), authorized(first), tokenRefreshed(), authorized(second, first)]).when(refreshResult(0, second)).then([tokenRefreshed(second)]);
  });
});

describe('connection decider: a refresh failure', () => {
  it('records a transient failure alone', () => {
    spec.given([created(), authorized(first)]).when({ type: 'RecordRefreshFailure', data: { ...about(), definitive: false, error: 'temporarily_unavailable' } }).then([refreshFailed(false, 'temporarily_unavailable')]);
  });

  it('records a definitive failure and revokes that one credential in the name of the system', () => {
    spec
      .given([created(), authorized(first)])
      .when({ type: 'RecordRefreshFailure', data: { ...about(), definitive: true, error: 'invalid_grant' } })
      .then([refreshFailed(true, 'invalid_grant'), revokedBySystem('refresh_failed')]);
  });

  it('is refused and writes nothing when the credential was replaced or revoked meanwhile', () => {
    spec.given([created(), authorized(first), authorized(second, first)]).when({ type: 'RecordRefreshFailure', data: { ...about(), definitive: true, error: 'invalid_grant' } }).then([]);
    spec.given([created(), authorized(first), revoked(first)]).when({ type: 'RecordRefreshFailure', data: { ...about(), definitive: false, error: 'network' } }).then([]);
  });
});

describe('connection decider: a token that needs its user again', () => {
  const required: ConnectionCommand = { type: 'RecordReauthorizationRequired', data: { ...about(), expiresAt: inAnHour } };
  const requiredEvent: ConnectionEvent = {
    type: 'ReauthorizationRequired',
    data: { orgId: 'acme', linkName: 'crm', userId: null, credentialRef: first, reason: 'no_refresh_token', expiresAt: inAnHour, detectedAt: now },
  };

  it('records the failure and ReauthorizationRequired together, once per credential', () => {
    spec.given([created(), authorized(first)]).when(required).then([refreshFailed(false, 'no_refresh_token'), requiredEvent]);
    spec.given([created(), authorized(first), refreshFailed(false, 'no_refresh_token'), requiredEvent]).when(required).then([]);
  });

  it('writes nothing for a credential replaced meanwhile', () => {
    spec.given([created(), authorized(first), authorized(second, first)]).when(required).then([]);
  });
});

describe('connection decider: a verification refusal', () => {
  it('revokes the credential it was about in the name of the system', () => {
    spec.given([created(), authorized(first)]).when({ type: 'RecordVerificationFailure', data: about() }).then([revokedBySystem('verification_failed')]);
  });

  it('is refused and writes nothing when the credential was replaced, revoked or deleted meanwhile', () => {
    spec.given([created(), authorized(first), authorized(second, first)]).when({ type: 'RecordVerificationFailure', data: about() }).then([]);
    spec.given([created(), authorized(first), revoked(first)]).when({ type: 'RecordVerificationFailure', data: about() }).then([]);
    spec.given([created(), authorized(first), deleted]).when({ type: 'RecordVerificationFailure', data: about() }).then([]);
  });
});
