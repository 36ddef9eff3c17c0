import type { ConnectionEvent, RecordedEvent } from '@plugboard/contracts';

/** A credential as an event (re)issues it. */
export interface IssuedCredential {
  streamId: string;
  credentialRef: string;
  orgId: string;
  linkName: string;
  userId: string | null;
  /** Null: it never expires (API key, Basic, OAuth 1.0a, an OAuth 2 token without expiry). */
  expiresAt: Date | null;
  issuedAt: Date;
  by: 'authorization' | 'refresh';
}

/** The connection events both schedules follow. */
export const CREDENTIAL_EVENTS: ConnectionEvent['type'][] = ['ConnectionAuthorized', 'TokenRefreshed', 'ConnectionRevoked', 'ConnectionDeleted'];

/** What a connection event does to its credentials: the ones it retires, and the one it issues or renews. */
export function credentialChange(recorded: RecordedEvent): { retired: string[]; issued: IssuedCredential | null } {
  const event = { type: recorded.type, data: recorded.data } as ConnectionEvent;
  const of = (d: { credentialRef: string; orgId: string; linkName: string; userId: string | null; expiresAt: string | null }, at: string, by: IssuedCredential['by']): IssuedCredential => ({
    streamId: recorded.streamId,
    credentialRef: d.credentialRef,
    orgId: d.orgId,
    linkName: d.linkName,
    userId: d.userId,
    expiresAt: d.expiresAt ? new Date(d.expiresAt) : null,
    issuedAt: new Date(at),
    by,
  });
  switch (event.type) {
    case 'ConnectionAuthorized':
      return { retired: event.data.replacesCredentialRef ? [event.data.replacesCredentialRef] : [], issued: of(event.data, event.data.authorizedAt, 'authorization') };
    case 'TokenRefreshed':
      return { retired: [], issued: of(event.data, event.data.refreshedAt, 'refresh') };
    case 'ConnectionRevoked':
      return { retired: [event.data.credentialRef], issued: null };
    case 'ConnectionDeleted':
      return { retired: event.data.credentialRefs, issued: null };
    default:
      return { retired: [], issued: null };
  }
}
