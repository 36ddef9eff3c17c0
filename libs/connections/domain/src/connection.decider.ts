import {
  assertNever,
  CONNECTION_DEGRADED_AFTER,
  DomainError,
  ErrorCodes,
  invalidField as invalid,
  SYSTEM_ACTOR,
  type ConnectionCallError,
  type ConnectionCreated,
  type ConnectionEvent,
  type ConnectionStatus,
  type CreateConnectionInput,
  type Decider,
  type EditConnectionInput,
  type RevokedReason,
} from '@plugboard/contracts';

/** Key of a credential: the user's id when each login user authorizes, `*` for the connection's own. */
export const OWN_CREDENTIAL = '*';

export interface Credential {
  status: 'connected' | 'revoked';
  credentialRef: string;
  revokedReason: RevokedReason | null;
  authorizedAt: string;
  /** Its token expired (or is about to) and cannot be renewed without the user (ReauthorizationRequired). */
  reauthorizationRequired?: boolean;
  /** Values its provider gave with it (ConnectionAuthorized.parameters): they fill templates for calls with it. */
  parameters?: Record<string, string>;
  /** How many refreshes of this credential were recorded (TokenRefreshed): a refresh result names the count it read. */
  refreshes?: number;
}

export type ConnectionState =
  | { status: 'absent' }
  | { status: 'deleted' }
  | {
      status: 'active';
      connection: ConnectionCreated['data'];
      credentials: Record<string, Credential>;
      reauthorizationRequired: boolean;
      /** Its API refused CONNECTION_DEGRADED_AFTER calls in a row (ConnectionDegraded), until one succeeds. */
      degraded?: boolean;
    };

/** What the connection needs to know of its service when it is created or edited. */
export interface ServiceFacts {
  linkName: string;
  type: 'predefined' | 'custom';
  authType: ConnectionCreated['data']['service']['authType'];
  scopes: string[];
  /** `optional`: the provider gives it when the connection is authorized (a catalog source), so it may be left out. */
  parameters: { name: string; pattern: string; optional?: boolean }[];
}

export type CreateConnection = { type: 'CreateConnection'; data: { orgId: string; owner: string; input: CreateConnectionInput & { linkName: string }; service: ServiceFacts; now: string } };
export type EditConnection = { type: 'EditConnection'; data: { orgId: string; userId: string; linkName: string; changes: EditConnectionInput; serviceScopes: string[]; now: string } };
export type AuthorizeConnection = {
  type: 'AuthorizeConnection';
  data: {
    orgId: string;
    userId: string;
    linkName: string;
    credentialRef: string;
    grantedScopes: string[] | null;
    expiresAt: string | null;
    /** Values the provider gave with this authorization (token response, callback), already checked. */
    parameters?: Record<string, string>;
    now: string;
  };
};
export type RevokeConnection = {
  type: 'RevokeConnection';
  /**
   * `reason: 'user'` revokes the caller's own credential; `service_edited` every credential; `revoked_for_all` every
   * credential too, asked by the owner or (`byAdmin`) an admin of the org; `refresh_failed` and
   * `verification_failed` the one credential named by `credentialKey` (a user id, or `*` for the connection's own).
   * `credentialRefs`, when given, narrows that to the credentials whose current reference it lists: those in force
   * before the event that caused the revocation, so that a credential authorized since (a new reference) stays.
   */
  data: { orgId: string; userId: string; linkName: string; reason: RevokedReason; credentialKey?: string; credentialRefs?: string[]; byAdmin?: boolean; now: string };
};
export type DeleteConnection = { type: 'DeleteConnection'; data: { orgId: string; userId: string; linkName: string; now: string } };

/**
 * What the calls through a connection showed since the last record: `consecutiveFailures` refusals (401, 403 after a
 * refresh) in a row up to now, the last of them `lastError`. Only a change of health becomes an event.
 */
export type RecordConnectionHealth = {
  type: 'RecordConnectionHealth';
  data: { orgId: string; linkName: string; consecutiveFailures: number; lastError: ConnectionCallError | null; now: string };
};

/** The credential a refresh or a verification was about: the user's (`userId`), or the connection's own (null). */
interface CredentialResult {
  orgId: string;
  linkName: string;
  userId: string | null;
  credentialRef: string;
  now: string;
}

/**
 * The provider gave new tokens for a credential. `refreshes` is the credential's refresh count read before the
 * provider was asked: another refresh recorded since means this result lost the race (its tokens replace nothing).
 */
export type RecordTokenRefresh = {
  type: 'RecordTokenRefresh';
  data: CredentialResult & { expiresAt: string | null; refreshTokenRotated: boolean; refreshes: number };
};

/** The provider refused a refresh: `definitive` (invalid_grant, a revoked client) revokes that credential too. */
export type RecordRefreshFailure = { type: 'RecordRefreshFailure'; data: CredentialResult & { definitive: boolean; error: string } };

/** A token that expires has no refresh token: only the user can renew it, once they are told (once). */
export type RecordReauthorizationRequired = { type: 'RecordReauthorizationRequired'; data: CredentialResult & { expiresAt: string | null } };

/** The service refused the credential at its verification call (401 or 403): that credential is revoked. */
export type RecordVerificationFailure = { type: 'RecordVerificationFailure'; data: CredentialResult };

export type ConnectionCommand =
  | CreateConnection
  | EditConnection
  | AuthorizeConnection
  | RevokeConnection
  | DeleteConnection
  | RecordConnectionHealth
  | RecordTokenRefresh
  | RecordRefreshFailure
  | RecordReauthorizationRequired
  | RecordVerificationFailure;

function notFound(linkName: string): DomainError {
  return new DomainError(ErrorCodes.connectionNotFound, `No connection with link name "${linkName}" exists in this organization.`);
}

/** Which credential a user acts with on this connection. */
export function credentialKey(connection: ConnectionCreated['data'], userId: string): string {
  return connection.useLoginUserCredentials ? userId : OWN_CREDENTIAL;
}

/** The status a user sees: with login-user credentials, that of their own credential. */
export function statusFor(state: ConnectionState, userId: string): ConnectionStatus {
  if (state.status === 'deleted') return 'deleted';
  if (state.status === 'absent') return 'pending';
  return state.credentials[credentialKey(state.connection, userId)]?.status ?? 'pending';
}

function checkScopes(scopes: string[], service: { authType: string; scopes: string[] }, path: string): void {
  if (scopes.length === 0) return;
  if (service.authType !== 'oauth2') throw invalid(path, 'scopes apply to OAuth 2 services only');
  const unknown = scopes.filter((s) => !service.scopes.includes(s));
  if (unknown.length > 0) throw invalid(path, `the service does not offer ${unknown.join(', ')}`);
}

function create(command: CreateConnection, state: ConnectionState): ConnectionEvent[] {
  const { orgId, owner, input, service, now } = command.data;
  if (state.status === 'active') throw new DomainError(ErrorCodes.linkNameTaken, `A connection with link name "${input.linkName}" already exists in this organization. Choose another link name.`);
  const scopes = input.scopes ?? (service.authType === 'oauth2' ? service.scopes : []);
  checkScopes(scopes, service, 'connection.scopes');
  const given = input.parameters ?? {};
  for (const name of Object.keys(given)) {
    if (!service.parameters.some((p) => p.name === name)) throw invalid(`connection.parameters.${name}`, 'the service declares no such parameter');
  }
  for (const parameter of service.parameters) {
    const value = given[parameter.name];
    if (value === undefined && parameter.optional) continue;
    if (value === undefined) throw invalid(`connection.parameters.${parameter.name}`, 'is required by the service');
    if (!new RegExp(parameter.pattern).test(value)) throw invalid(`connection.parameters.${parameter.name}`, `must match ${parameter.pattern}`);
  }
  return [
    {
      type: 'ConnectionCreated',
      data: {
        orgId,
        linkName: input.linkName,
        name: input.name,
        service: { linkName: service.linkName, type: service.type, authType: service.authType },
        scopes,
        parameters: given,
        useLoginUserCredentials: input.useLoginUserCredentials,
        internal: input.internal,
        owner,
        createdAt: now,
      },
    },
  ];
}

function active(state: ConnectionState, linkName: string): Extract<ConnectionState, { status: 'active' }> {
  if (state.status !== 'active') throw notFound(linkName);
  return state;
}

function edit(command: EditConnection, state: ConnectionState): ConnectionEvent[] {
  const { orgId, userId, linkName, changes, serviceScopes, now } = command.data;
  const { connection } = active(state, linkName);
  if (connection.internal) throw new DomainError(ErrorCodes.connectionInternal, 'Internal connections cannot be edited or deleted; they can only be revoked.');
  if (connection.owner !== userId) throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may edit it; you can revoke your own authorization.`);
  const fixed = {
    linkName: connection.linkName,
    service: connection.service.linkName,
    parameters: connection.parameters,
    useLoginUserCredentials: connection.useLoginUserCredentials,
    internal: connection.internal,
  };
  for (const [field, current] of Object.entries(fixed) as [keyof typeof fixed, unknown][]) {
    if (changes[field] !== undefined && JSON.stringify(changes[field]) !== JSON.stringify(current)) {
      throw new DomainError(ErrorCodes.fieldNotEditable, `${field} cannot be changed: only the name and the scopes of a connection can be edited.`, [
        { path: field, message: 'only the name and the scopes of a connection can be edited' },
      ]);
    }
  }
  const changedFields: string[] = [];
  const recorded: { name?: string; scopes?: string[] } = {};
  if (changes.name !== undefined && changes.name !== connection.name) {
    recorded.name = changes.name;
    changedFields.push('name');
  }
  if (changes.scopes !== undefined && JSON.stringify([...changes.scopes].sort()) !== JSON.stringify([...connection.scopes].sort())) {
    checkScopes(changes.scopes, { authType: connection.service.authType, scopes: serviceScopes }, 'changes.scopes');
    recorded.scopes = changes.scopes;
    changedFields.push('scopes');
  }
  if (changedFields.length === 0) return [];
  const reauthorizationRequired = changedFields.includes('scopes') && connection.service.authType === 'oauth2';
  return [{ type: 'ConnectionEdited', data: { orgId, linkName, changedFields, changes: recorded, reauthorizationRequired, editedBy: userId, editedAt: now } }];
}

function authorize(command: AuthorizeConnection, state: ConnectionState): ConnectionEvent[] {
  const { orgId, userId, linkName, credentialRef, grantedScopes, expiresAt, parameters, now } = command.data;
  const { connection, credentials } = active(state, linkName);
  if (!connection.useLoginUserCredentials && connection.owner !== userId) {
    throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may authorize it; it does not use each user's own credentials.`);
  }
  const replaces = credentials[credentialKey(connection, userId)]?.credentialRef ?? null;
  return [
    {
      type: 'ConnectionAuthorized',
      data: {
        orgId,
        linkName,
        userId: connection.useLoginUserCredentials ? userId : null,
        credentialRef,
        replacesCredentialRef: replaces === credentialRef ? null : replaces,
        grantedScopes,
        expiresAt,
        ...(parameters && Object.keys(parameters).length > 0 ? { parameters } : {}),
        authorizedBy: userId,
        authorizedAt: now,
      },
    },
  ];
}

function revoke(command: RevokeConnection, state: ConnectionState): ConnectionEvent[] {
  const { orgId, userId, linkName, reason, now } = command.data;
  const current = active(state, linkName);
  const { connection, credentials } = current;
  let keys: string[];
  if (reason === 'user') {
    if (!connection.useLoginUserCredentials && connection.owner !== userId) {
      throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may revoke it.`);
    }
    keys = [credentialKey(connection, userId)];
  } else if (reason === 'revoked_for_all') {
    // Stopping everyone's use of a connection is the owner's call (an admin's too): a user may stop only their own.
    if (connection.owner !== userId && !command.data.byAdmin) {
      throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) or an admin may revoke every user's authorization of it.`);
    }
    keys = Object.keys(credentials);
  } else if (reason === 'refresh_failed' || reason === 'verification_failed') {
    keys = command.data.credentialKey ? [command.data.credentialKey] : [];
  } else {
    keys = Object.keys(credentials);
  }
  const { credentialRefs } = command.data;
  return keys
    .filter((key) => credentials[key]?.status === 'connected')
    .filter((key) => credentialRefs === undefined || credentialRefs.includes(credentials[key].credentialRef))
    .map((key) => ({
      type: 'ConnectionRevoked' as const,
      data: { orgId, linkName, userId: key === OWN_CREDENTIAL ? null : key, reason, credentialRef: credentials[key].credentialRef, revokedBy: userId, revokedAt: now },
    }));
}

function remove(command: DeleteConnection, state: ConnectionState): ConnectionEvent[] {
  const { orgId, userId, linkName, now } = command.data;
  const current = active(state, linkName);
  const { connection } = current;
  if (connection.internal) throw new DomainError(ErrorCodes.connectionInternal, 'Internal connections cannot be edited or deleted; they can only be revoked.');
  if (connection.owner !== userId) throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may delete it.`);
  return [{ type: 'ConnectionDeleted', data: { orgId, linkName, service: connection.service.linkName, credentialRefs: credentialRefs(current), deletedBy: userId, deletedAt: now } }];
}

function recordHealth(command: RecordConnectionHealth, state: ConnectionState): ConnectionEvent[] {
  const { orgId, linkName, consecutiveFailures, lastError, now } = command.data;
  // Calls are recorded after the fact: the connection may be gone by then, which is no one's error.
  if (state.status !== 'active') return [];
  const degraded = consecutiveFailures >= CONNECTION_DEGRADED_AFTER;
  if (degraded && !state.degraded && lastError) return [{ type: 'ConnectionDegraded', data: { orgId, linkName, consecutiveFailures, lastError, degradedAt: now } }];
  // Refusals only add up until a call succeeds: below the threshold again means one did.
  if (!degraded && state.degraded) return [{ type: 'ConnectionRecovered', data: { orgId, linkName, recoveredAt: now } }];
  return [];
}

/**
 * The credential a refresh or verification result is about, while it is still the one in force: a result for a
 * credential revoked, replaced by a new authorization, or deleted with its connection meanwhile records nothing.
 */
export function credentialInForce(state: ConnectionState, result: Pick<CredentialResult, 'userId' | 'credentialRef'>): Credential | null {
  if (state.status !== 'active') return null;
  const credential = state.credentials[result.userId ?? OWN_CREDENTIAL];
  return credential?.credentialRef === result.credentialRef && credential.status === 'connected' ? credential : null;
}

function recordTokenRefresh(command: RecordTokenRefresh, state: ConnectionState): ConnectionEvent[] {
  const { orgId, linkName, userId, credentialRef, expiresAt, refreshTokenRotated, refreshes, now } = command.data;
  const credential = credentialInForce(state, command.data);
  if (!credential || (credential.refreshes ?? 0) !== refreshes) return [];
  return [{ type: 'TokenRefreshed', data: { orgId, linkName, userId, credentialRef, expiresAt, refreshTokenRotated, refreshedAt: now } }];
}

function refreshFailed(result: CredentialResult, definitive: boolean, error: string): ConnectionEvent {
  const { orgId, linkName, userId, credentialRef, now } = result;
  return { type: 'TokenRefreshFailed', data: { orgId, linkName, userId, credentialRef, definitive, error, failedAt: now } };
}

/** Revokes the one credential a result was about, in the name of the system. */
function revokeFor(result: CredentialResult, reason: 'refresh_failed' | 'verification_failed', state: ConnectionState): ConnectionEvent[] {
  const { orgId, linkName, userId, now } = result;
  return revoke({ type: 'RevokeConnection', data: { orgId, userId: SYSTEM_ACTOR, linkName, reason, credentialKey: userId ?? OWN_CREDENTIAL, now } }, state);
}

function recordRefreshFailure(command: RecordRefreshFailure, state: ConnectionState): ConnectionEvent[] {
  const { definitive, error } = command.data;
  if (!credentialInForce(state, command.data)) return [];
  return [refreshFailed(command.data, definitive, error), ...(definitive ? revokeFor(command.data, 'refresh_failed', state) : [])];
}

function recordReauthorizationRequired(command: RecordReauthorizationRequired, state: ConnectionState): ConnectionEvent[] {
  const { orgId, linkName, userId, credentialRef, expiresAt, now } = command.data;
  const credential = credentialInForce(state, command.data);
  if (!credential || credential.reauthorizationRequired) return [];
  const reason = 'no_refresh_token';
  return [refreshFailed(command.data, false, reason), { type: 'ReauthorizationRequired', data: { orgId, linkName, userId, credentialRef, reason, expiresAt, detectedAt: now } }];
}

function recordVerificationFailure(command: RecordVerificationFailure, state: ConnectionState): ConnectionEvent[] {
  return credentialInForce(state, command.data) ? revokeFor(command.data, 'verification_failed', state) : [];
}

/** Every credential reference a connection holds, for crypto-erasing them when it is deleted. */
export function credentialRefs(state: ConnectionState): string[] {
  return state.status === 'active' ? Object.values(state.credentials).map((c) => c.credentialRef) : [];
}

/** The rules of one connection's life: create, edit name and scopes, authorize, revoke, delete, and what refreshes and verifications found. Pure. */
export const connectionDecider: Decider<ConnectionCommand, ConnectionEvent, ConnectionState> = {
  initialState: () => ({ status: 'absent' }),
  decide(command, state) {
    switch (command.type) {
      case 'CreateConnection':
        return create(command, state);
      case 'EditConnection':
        return edit(command, state);
      case 'AuthorizeConnection':
        return authorize(command, state);
      case 'RevokeConnection':
        return revoke(command, state);
      case 'DeleteConnection':
        return remove(command, state);
      case 'RecordConnectionHealth':
        return recordHealth(command, state);
      case 'RecordTokenRefresh':
        return recordTokenRefresh(command, state);
      case 'RecordRefreshFailure':
        return recordRefreshFailure(command, state);
      case 'RecordReauthorizationRequired':
        return recordReauthorizationRequired(command, state);
      case 'RecordVerificationFailure':
        return recordVerificationFailure(command, state);
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ConnectionCreated':
        return { status: 'active', connection: event.data, credentials: {}, reauthorizationRequired: false };
      case 'ConnectionEdited':
        if (state.status !== 'active') return state;
        return {
          ...state,
          connection: { ...state.connection, ...event.data.changes },
          reauthorizationRequired: state.reauthorizationRequired || event.data.reauthorizationRequired,
        };
      case 'ConnectionAuthorized': {
        if (state.status !== 'active') return state;
        const key = event.data.userId ?? OWN_CREDENTIAL;
        const credential: Credential = {
          status: 'connected',
          credentialRef: event.data.credentialRef,
          revokedReason: null,
          authorizedAt: event.data.authorizedAt,
          ...(event.data.parameters ? { parameters: event.data.parameters } : {}),
        };
        return { ...state, credentials: { ...state.credentials, [key]: credential }, reauthorizationRequired: false };
      }
      case 'ConnectionRevoked': {
        if (state.status !== 'active') return state;
        const key = event.data.userId ?? OWN_CREDENTIAL;
        const previous = state.credentials[key];
        if (!previous) return state;
        return { ...state, credentials: { ...state.credentials, [key]: { ...previous, status: 'revoked', revokedReason: event.data.reason } } };
      }
      case 'ConnectionDeleted':
        return { status: 'deleted' };
      case 'ReauthorizationRequired': {
        if (state.status !== 'active') return state;
        const key = event.data.userId ?? OWN_CREDENTIAL;
        const previous = state.credentials[key];
        if (!previous || previous.credentialRef !== event.data.credentialRef) return state;
        return { ...state, credentials: { ...state.credentials, [key]: { ...previous, reauthorizationRequired: true } } };
      }
      case 'ConnectionDegraded':
        return state.status === 'active' ? { ...state, degraded: true } : state;
      case 'ConnectionRecovered':
        return state.status === 'active' ? { ...state, degraded: false } : state;
      case 'TokenRefreshed': {
        // The credential keeps its vault entry (rewritten in place); its status changes only through a revocation.
        if (state.status !== 'active') return state;
        const key = event.data.userId ?? OWN_CREDENTIAL;
        const previous = state.credentials[key];
        if (!previous || previous.credentialRef !== event.data.credentialRef) return state;
        return { ...state, credentials: { ...state.credentials, [key]: { ...previous, refreshes: (previous.refreshes ?? 0) + 1 } } };
      }
      case 'TokenRefreshFailed':
        return state;
      default:
        return assertNever(event);
    }
  },
};
