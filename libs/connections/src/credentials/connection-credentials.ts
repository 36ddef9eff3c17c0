import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, Subjects, connectionStreamId, type Actor, type StoredCredential } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { RpcClient } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { serviceTargetOf, type Injection } from '@plugboard/outbound';
import { ServiceDefinitions } from '@plugboard/registry';
import { ChangeFeed, type Change } from './change-feed';
import { userNotAuthorized } from './user-not-authorized';

/** Everything a call through one connection needs, decrypted credential included. Lives only in this process. */
export interface InvokeTarget {
  orgId: string;
  linkName: string;
  service: string;
  /** The user whose credential it is (login-user credentials), null for the connection's own. */
  credentialUser: string | null;
  credentialRef: string;
  credentialVersion: number;
  credential: StoredCredential;
  injection: Injection;
  baseUrl: string | null;
  allowedHosts: string[];
}

interface Row {
  service: string;
  service_type: 'predefined' | 'custom';
  auth_type: string;
  parameters: Record<string, string>;
  use_login_user_credentials: boolean;
  /** Values the provider gave with this credential (its ConnectionAuthorized), null otherwise. */
  learned: Record<string, string> | null;
  /** The log's last word on this credential. */
  last_event: 'ConnectionAuthorized' | 'ConnectionRevoked' | 'ConnectionDeleted' | null;
  credential_ref: string | null;
  /** The service changed (custom: edited; predefined: the org's OAuth app) since this credential was authorized: the revocation saga is about to revoke it. */
  superseded: boolean;
}

/** A load under way: eviction marks it, and then what it read is used for its own call only, never cached. */
interface Loading {
  orgId: string;
  linkName: string;
  evicted: boolean;
}

/** Decrypted credentials kept at most; the least recently used go first. */
const MAX_CACHED_TARGETS = 10_000;

/**
 * The connections module's port for calls through a connection (the invoke proxy's pipeline): `forCall` turns a link
 * name into a ready-to-use target, cached per credential (one entry for all the users of a connection's own
 * credential). Revoked means stopped: before any cached credential is used, the change feed is read up to the moment
 * of the call, dropping the entries of every connection or service that changed; a load that an eviction overtook is
 * not cached. So a call begun after a revocation was acknowledged never sends the credential, on any replica.
 */
@Injectable()
export class ConnectionCredentials {
  private readonly cache = new Map<string, InvokeTarget>();
  private readonly loading = new Set<Loading>();
  readonly changes: ChangeFeed;

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceDefinitions,
    private readonly rpc: RpcClient,
  ) {
    this.changes = new ChangeFeed(store, (changes) => this.apply(changes));
  }

  /** The target of a call by this actor through this connection, with a credential that is in force and not expired. */
  async forCall(actor: Actor, linkName: string): Promise<InvokeTarget> {
    const target = await this.current(actor, linkName);
    return expired(target) ? this.renewed(actor, target) : target;
  }

  /** The target as the log has it now, expired or not. */
  private async current(actor: Actor, linkName: string): Promise<InvokeTarget> {
    await this.changes.sync();
    return this.cached(actor, linkName) ?? this.load(actor, linkName);
  }

  /**
   * An expired OAuth 2 token is never sent (the API's 401 would be passed on): it is renewed first, and when it cannot
   * be (no refresh token, or the refresh failed) the call is refused with reauthorization_required.
   */
  private async renewed(actor: Actor, target: InvokeTarget): Promise<InvokeTarget> {
    const fresh = await this.refreshed(actor, target);
    if (fresh && !expired(fresh)) return fresh;
    throw new DomainError(
      ErrorCodes.reauthorizationRequired,
      `The access token of the connection "${target.linkName}" has expired and cannot be renewed: authorize it again (POST /v1/connections/${target.linkName}/authorize).`,
    );
  }

  /** The target again, right before another send: the same one if nothing changed since, else a fresh one (or the refusal). */
  async confirm(actor: Actor, target: InvokeTarget): Promise<InvokeTarget> {
    await this.changes.sync();
    return this.cache.get(keyOf(target.orgId, target.linkName, target.credentialUser)) === target ? target : this.forCall(actor, target.linkName);
  }

  /** Forget a target (after a refresh rewrote its credential, for instance). */
  evict(orgId: string, linkName: string): void {
    for (const load of this.loading) if (load.orgId === orgId && load.linkName === linkName) load.evicted = true;
    for (const [key, target] of this.cache) if (target.orgId === orgId && target.linkName === linkName) this.cache.delete(key);
  }

  /** After a 401, once: the target with a fresh token from the token-refresh app, or null when none could be had. */
  async refreshed(actor: Actor, target: InvokeTarget): Promise<InvokeTarget | null> {
    try {
      // The bus deadline of tokenRefresh.refresh (rpcDeadlines) outlasts a lease another replica may hold.
      const reply = await this.rpc.request(Subjects.tokenRefresh.refresh, { orgId: target.orgId, linkName: target.linkName, userId: target.credentialUser, seenVersion: target.credentialVersion });
      this.evict(target.orgId, target.linkName);
      if (reply.outcome !== 'refreshed' && reply.outcome !== 'already_fresh') return null;
      // Not forCall(): a token that came back expired must end in a refusal, not in another refresh.
      return await this.current(actor, target.linkName);
    } catch {
      return null;
    }
  }

  private apply(changes: Change[]): void {
    for (const change of changes) {
      if (change.stream === 'connection') {
        this.evict(change.orgId, change.linkName);
        continue;
      }
      // A load in flight does not know its service yet: any of the org's may be of this one.
      for (const load of this.loading) if (load.orgId === change.orgId) load.evicted = true;
      for (const [key, target] of this.cache) if (target.orgId === change.orgId && target.service === change.linkName) this.cache.delete(key);
    }
  }

  /** The connection's own credential, or else the caller's, whichever is cached; most recently used moves last. */
  private cached(actor: Actor, linkName: string): InvokeTarget | undefined {
    for (const key of [keyOf(actor.orgId, linkName, null), keyOf(actor.orgId, linkName, actor.userId)]) {
      const target = this.cache.get(key);
      if (!target) continue;
      this.cache.delete(key);
      this.cache.set(key, target);
      return target;
    }
    return undefined;
  }

  private async load(actor: Actor, linkName: string): Promise<InvokeTarget> {
    // Registered before the first read, so an eviction that comes while it reads is not lost.
    const loading: Loading = { orgId: actor.orgId, linkName, evicted: false };
    this.loading.add(loading);
    try {
      const target = await this.read(actor, linkName);
      if (!loading.evicted) {
        this.cache.set(keyOf(target.orgId, target.linkName, target.credentialUser), target);
        if (this.cache.size > MAX_CACHED_TARGETS) this.cache.delete(this.cache.keys().next().value as string);
      }
      return target;
    } finally {
      this.loading.delete(loading);
    }
  }

  private async read(actor: Actor, linkName: string): Promise<InvokeTarget> {
    // The connection's settings from this module's read model (they never change); its credential's state
    // from the log itself, whose last word on that credential may not be in the read model yet. `superseded`: the
    // custom service was edited, or the org's own OAuth app of the predefined one changed, after the authorization
    // (the revocation saga will revoke it); the stream ids are serviceStreamId's and serviceClientStreamId's.
    const [row]: Row[] = await this.store.dataSource.query(
      `SELECT c.service, c.service_type, c.auth_type, c.parameters, c.use_login_user_credentials, last.type AS last_event, last.credential_ref, last.learned,
              last.type = 'ConnectionAuthorized' AND EXISTS (
                SELECT 1 FROM events edited
                 WHERE ((c.service_type = 'custom' AND edited.stream_id = 'service-' || c.org_id || '.' || c.service AND edited.type = 'ServiceEdited')
                        OR (c.service_type = 'predefined' AND edited.stream_id = 'service-' || c.org_id || '.' || c.service || '.client'))
                   AND (edited.transaction_id, edited.global_position) > (last.transaction_id, last.global_position)) AS superseded
         FROM connections c
         LEFT JOIN LATERAL (
              SELECT e.type, e.data->>'credentialRef' AS credential_ref, e.data->'parameters' AS learned, e.transaction_id, e.global_position FROM events e
               WHERE e.stream_id = $4 AND (e.type = 'ConnectionDeleted' OR (e.type IN ('ConnectionAuthorized', 'ConnectionRevoked')
                     AND coalesce(e.data->>'userId', '*') = CASE WHEN c.use_login_user_credentials THEN $3 ELSE '*' END))
               ORDER BY e.stream_version DESC LIMIT 1) last ON true
        WHERE c.org_id = $1 AND c.link_name = $2`,
      [actor.orgId, linkName, actor.userId, connectionStreamId(actor.orgId, linkName)],
    );
    if (!row || row.last_event === 'ConnectionDeleted') throw new DomainError(ErrorCodes.connectionNotFound, `No connection with link name "${linkName}" exists in this organization.`);
    if (!row.last_event || !row.credential_ref) {
      if (row.use_login_user_credentials) {
        throw await userNotAuthorized(this.rpc, actor, linkName);
      }
      throw new DomainError(ErrorCodes.connectionNotConnected, `The connection "${linkName}" is not authorized yet: POST /v1/connections/${linkName}/authorize.`);
    }
    if (row.last_event === 'ConnectionRevoked' || row.superseded) throw new DomainError(ErrorCodes.connectionRevoked, `The connection "${linkName}" is revoked. Authorize it again to use it.`);
    const stored = await this.vault.getVersioned<StoredCredential>(this.store.dataSource.manager, row.credential_ref, actor.orgId);
    if (!stored) throw new DomainError(ErrorCodes.connectionRevoked, `The connection "${linkName}" has no usable credential. Authorize it again.`);
    const service = serviceTargetOf(await this.services.source(actor.orgId, { service: row.service, serviceType: row.service_type, parameters: { ...row.parameters, ...(row.learned ?? {}) } }));
    if (!service) {
      throw new DomainError(ErrorCodes.serviceNotConfigured, `The OAuth 1.0a consumer of the service "${row.service}" is not configured in this Plugboard (PLUGBOARD_PREDEFINED_CLIENTS).`);
    }
    return {
      orgId: actor.orgId,
      linkName,
      service: row.service,
      credentialUser: row.use_login_user_credentials ? actor.userId : null,
      credentialRef: row.credential_ref,
      credentialVersion: stored.version,
      credential: stored.value,
      ...service,
    };
  }
}

/** An OAuth 2 token past its expiry (a token without one is taken to be valid until the API says otherwise). */
function expired(target: InvokeTarget): boolean {
  const { credential } = target;
  return credential.kind === 'oauth2' && credential.expiresAt !== null && Date.parse(credential.expiresAt) <= Date.now();
}

/** A credential's cache key: the connection's own (`user` null) or one user's. */
function keyOf(orgId: string, linkName: string, user: string | null): string {
  return `${orgId}\u0000${linkName}\u0000${user ?? '*'}`;
}
