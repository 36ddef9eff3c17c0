import type { AuthType } from '../services/service.contract';
import type { RevokedReason } from './connection.contract';

/**
 * Events of a `connection-<orgId>.<linkName>` stream. A credential is named by its vault reference; `userId` is the
 * user it belongs to when the connection uses each login user's credentials, and null for the connection's own.
 */
export type ConnectionCreated = {
  type: 'ConnectionCreated';
  data: {
    orgId: string;
    linkName: string;
    name: string;
    service: { linkName: string; type: 'predefined' | 'custom'; authType: AuthType };
    scopes: string[];
    parameters: Record<string, string>;
    useLoginUserCredentials: boolean;
    internal: boolean;
    owner: string;
    createdAt: string;
  };
};

export type ConnectionAuthorized = {
  type: 'ConnectionAuthorized';
  data: {
    orgId: string;
    linkName: string;
    userId: string | null;
    credentialRef: string;
    /** The vault entry this authorization replaces (erased with it), when there was one. */
    replacesCredentialRef: string | null;
    grantedScopes: string[] | null;
    expiresAt: string | null;
    /**
     * Values the provider gave with this credential, as the service's catalog entry declares them (Salesforce's
     * instance, QuickBooks' realm id…): they fill its templated URLs for calls with this credential. Never a secret.
     */
    parameters?: Record<string, string>;
    authorizedBy: string;
    authorizedAt: string;
  };
};

export type ConnectionEdited = {
  type: 'ConnectionEdited';
  data: {
    orgId: string;
    linkName: string;
    changedFields: string[];
    changes: { name?: string; scopes?: string[] };
    reauthorizationRequired: boolean;
    editedBy: string;
    editedAt: string;
  };
};

export type ConnectionRevoked = {
  type: 'ConnectionRevoked';
  data: {
    orgId: string;
    linkName: string;
    userId: string | null;
    reason: RevokedReason;
    /** The vault entry the revocation retired. */
    credentialRef: string;
    revokedBy: string;
    revokedAt: string;
  };
};

export type ConnectionDeleted = {
  type: 'ConnectionDeleted';
  /** `credentialRefs`: the vault entries the deletion erases (references only). */
  data: { orgId: string; linkName: string; service: string; credentialRefs: string[]; deletedBy: string; deletedAt: string };
};

/** The token-refresh app renewed an OAuth 2 credential in place (same vault entry, new version). */
export type TokenRefreshed = {
  type: 'TokenRefreshed';
  data: { orgId: string; linkName: string; userId: string | null; credentialRef: string; expiresAt: string | null; refreshTokenRotated: boolean; refreshedAt: string };
};

/** A refresh failed: `definitive` ones (invalid_grant, revoked client) are followed by ConnectionRevoked{refresh_failed}. */
export type TokenRefreshFailed = {
  type: 'TokenRefreshFailed';
  data: {
    orgId: string;
    linkName: string;
    userId: string | null;
    credentialRef: string;
    definitive: boolean;
    /** The provider's error code (`invalid_grant`, `temporarily_unavailable`…) or `network`; never a token. */
    error: string;
    failedAt: string;
  };
};

/**
 * An OAuth 2 credential's access token has expired, or is about to, and cannot be renewed without the user: the
 * provider issued no refresh token (`no_refresh_token`). Recorded once per credential; calls through it answer
 * `reauthorization_required` until the user authorizes again (ConnectionAuthorized clears it).
 */
export type ReauthorizationRequired = {
  type: 'ReauthorizationRequired';
  data: { orgId: string; linkName: string; userId: string | null; credentialRef: string; reason: 'no_refresh_token'; expiresAt: string | null; detectedAt: string };
};

/** Why calls through a connection fail: the API's answer, never its body (it may echo a credential). */
export interface ConnectionCallError {
  /** The HTTP status the API answered, after Plugboard refreshed the token where it could (401 or 403). */
  status: number;
  /** The host that answered: the service's own, never a URL with its query. */
  host: string | null;
  message: string;
  at: string;
}

/**
 * Calls through the connection have been refused by its API (401 or 403 after a refresh) `consecutiveFailures`
 * times in a row, at least CONNECTION_DEGRADED_AFTER: the credential no longer works, though nothing revoked it.
 */
export type ConnectionDegraded = {
  type: 'ConnectionDegraded';
  data: { orgId: string; linkName: string; consecutiveFailures: number; lastError: ConnectionCallError; degradedAt: string };
};

/** A call through a degraded connection succeeded again. */
export type ConnectionRecovered = {
  type: 'ConnectionRecovered';
  data: { orgId: string; linkName: string; recoveredAt: string };
};

export type ConnectionEvent =
  | ConnectionCreated
  | ConnectionAuthorized
  | ConnectionEdited
  | ConnectionRevoked
  | ConnectionDeleted
  | TokenRefreshed
  | TokenRefreshFailed
  | ReauthorizationRequired
  | ConnectionDegraded
  | ConnectionRecovered;

export function connectionStreamId(orgId: string, linkName: string): string {
  return `connection-${orgId}.${linkName}`;
}
