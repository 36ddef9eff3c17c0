import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { connectionStreamId, type RecordedEvent } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';

/** A connection and the state of its credentials (with login-user credentials: connected when any user's is). */
export interface ConnectionStatus {
  linkName: string;
  name: string;
  service: string;
  authType: string;
  internal: boolean;
  status: 'connected' | 'pending' | 'revoked';
  revokedReason: string | null;
  credentials: number;
}

/** A connection whose API refused calls CONNECTION_DEGRADED_AFTER times in a row (ConnectionDegraded), not yet recovered. */
export interface DegradedConnection {
  linkName: string;
  name: string;
  service: string;
  consecutiveFailures: number;
  lastError: string | null;
  lastUsedAt: string | null;
}

export interface RefreshFailure {
  linkName: string;
  userId: string | null;
  error: string;
  definitive: boolean;
  at: string;
}

export interface Revocation {
  linkName: string;
  userId: string | null;
  reason: string;
  by: string;
  at: string;
}

/** How many of the latest refresh failures and revocations are shown. */
const RECENT = 20;

const iso = (value: Date | string): string => new Date(value).toISOString();

/**
 * The connections module's query port for pages that show an org's connections (the gateway's dashboard and
 * console). Each method reads in the caller's transaction (`m`), so a page built from several reads is one snapshot.
 * Nothing here holds a secret: the tables hold none, and the events hold only vault references.
 */
@Injectable()
export class ConnectionQueries {
  constructor(private readonly store: EventStore) {}

  /** The org's connections, by link name, each with its status. */
  async statuses(m: EntityManager, orgId: string): Promise<ConnectionStatus[]> {
    // A connection's status is its own credential's; with login-user credentials, connected when any user's is.
    const rows = await m.query(
      `SELECT c.link_name, c.name, c.service, c.auth_type, c.internal,
              CASE WHEN bool_or(k.status = 'connected') THEN 'connected' WHEN bool_or(k.status = 'revoked') THEN 'revoked' ELSE 'pending' END AS status,
              min(k.revoked_reason) FILTER (WHERE k.status = 'revoked') AS revoked_reason,
              count(k.user_key)::int AS credentials
         FROM connections c
         LEFT JOIN connection_credentials k
           ON k.org_id = c.org_id AND k.link_name = c.link_name AND (c.use_login_user_credentials OR k.user_key = '*')
        WHERE c.org_id = $1
        GROUP BY c.org_id, c.link_name
        ORDER BY c.link_name`,
      [orgId],
    );
    return rows.map((r: Record<string, never>) => ({
      linkName: r.link_name,
      name: r.name,
      service: r.service,
      authType: r.auth_type,
      internal: r.internal,
      status: r.status,
      revokedReason: r.status === 'revoked' ? r.revoked_reason : null,
      credentials: r.credentials,
    }));
  }

  /** The org's degraded connections (at most 100), by link name. */
  async degraded(m: EntityManager, orgId: string): Promise<DegradedConnection[]> {
    const rows = await m.query(
      `SELECT c.link_name, c.name, c.service, h.consecutive_failures, h.last_error->>'message' AS last_error, h.last_used_at
         FROM connections c LEFT JOIN connection_health h ON h.org_id = c.org_id AND h.link_name = c.link_name
        WHERE c.org_id = $1 AND c.degraded
        ORDER BY c.link_name
        LIMIT 100`,
      [orgId],
    );
    return rows.map((r: Record<string, never>) => ({
      linkName: r.link_name,
      name: r.name,
      service: r.service,
      consecutiveFailures: r.consecutive_failures ?? 0,
      lastError: r.last_error,
      lastUsedAt: r.last_used_at === null ? null : iso(r.last_used_at),
    }));
  }

  /** The org's latest failed token refreshes (TokenRefreshFailed), newest first. */
  async recentRefreshFailures(m: EntityManager, orgId: string): Promise<RefreshFailure[]> {
    return (await this.recent(m, orgId, 'TokenRefreshFailed')).map((r) => ({
      linkName: r.data.linkName,
      userId: r.data.userId,
      error: r.data.error,
      definitive: r.data.definitive,
      at: r.data.failedAt ?? iso(r.recorded_at),
    }));
  }

  /** The org's latest revocations (ConnectionRevoked), newest first. */
  async recentRevocations(m: EntityManager, orgId: string): Promise<Revocation[]> {
    return (await this.recent(m, orgId, 'ConnectionRevoked')).map((r) => ({
      linkName: r.data.linkName,
      userId: r.data.userId,
      reason: r.data.reason,
      by: r.data.revokedBy,
      at: r.data.revokedAt ?? iso(r.recorded_at),
    }));
  }

  /** Every event of one connection's stream, oldest first (another org's connection of that name is another stream). */
  timeline(m: EntityManager, orgId: string, linkName: string): Promise<RecordedEvent[]> {
    return this.store.readStream(connectionStreamId(orgId, linkName), m);
  }

  /** The org's latest events of one type, newest first. */
  private recent(m: EntityManager, orgId: string, type: string): Promise<{ data: Record<string, never>; recorded_at: Date }[]> {
    return m.query(`SELECT data, recorded_at FROM events WHERE type = $2 AND metadata->>'orgId' = $1 ORDER BY global_position DESC LIMIT ${RECENT}`, [orgId, type]);
  }
}
