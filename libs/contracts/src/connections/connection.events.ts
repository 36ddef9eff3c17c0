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

export type ConnectionEvent = ConnectionCreated | ConnectionAuthorized | ConnectionEdited | ConnectionRevoked | ConnectionDeleted;

export function connectionStreamId(orgId: string, linkName: string): string {
  return `connection-${orgId}.${linkName}`;
}
