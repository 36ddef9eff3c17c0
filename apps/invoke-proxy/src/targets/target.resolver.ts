import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCodes, Subjects, type Actor, type RecordedEvent, type StoredCredential } from '@plugboard/contracts';
import { EventStore, type SubscriptionHandler } from '@plugboard/event-store';
import { RpcClient } from '@plugboard/messaging';
import { Vault } from '@plugboard/vault';
import { serviceTargetOf, type Injection } from '@plugboard/outbound';
import { ServiceAuth } from '@plugboard/service-auth';

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
  status: 'connected' | 'revoked' | null;
  credential_ref: string | null;
}

/**
 * Resolves a link name to a ready-to-use target and keeps it in memory. Any event of the connection's stream, or of
 * its service's, drops the cached entry (a per-process tail of the log, woken by NOTIFY), so a revocation stops
 * calls within milliseconds on every replica.
 */
@Injectable()
export class TargetResolver implements SubscriptionHandler {
  readonly name = `invoke-cache:${randomUUID()}`;
  private readonly cache = new Map<string, InvokeTarget>();

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceAuth,
    private readonly rpc: RpcClient,
  ) {}

  async resolve(actor: Actor, linkName: string): Promise<InvokeTarget> {
    const key = `${actor.orgId}\u0000${linkName}\u0000${actor.userId}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const target = await this.load(actor, linkName);
    this.cache.set(key, target);
    return target;
  }

  /** Forget a target (after a refresh rewrote its credential, for instance). */
  evict(orgId: string, linkName: string): void {
    const prefix = `${orgId}\u0000${linkName}\u0000`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  /** After a 401, once: the target with a fresh token from the token-refresh app, or null when none could be had. */
  async refreshed(actor: Actor, target: InvokeTarget): Promise<InvokeTarget | null> {
    try {
      const reply = await this.rpc.request(
        Subjects.tokenRefresh.refresh,
        { orgId: target.orgId, linkName: target.linkName, userId: target.credentialUser, seenVersion: target.credentialVersion },
        // Longer than a refresh lease: another replica may hold this credential's lease for that long.
        { timeoutMs: 35_000 },
      );
      this.evict(target.orgId, target.linkName);
      if (reply.outcome !== 'refreshed' && reply.outcome !== 'already_fresh') return null;
      return await this.resolve(actor, target.linkName);
    } catch {
      return null;
    }
  }

  async handle(events: RecordedEvent[], _manager: EntityManager): Promise<void> {
    for (const event of events) {
      const data = event.data as { orgId?: string; linkName?: string };
      if (!data.orgId || !data.linkName) continue;
      if (event.streamId.startsWith('connection-')) this.evict(data.orgId, data.linkName);
      if (event.streamId.startsWith('service-')) {
        for (const [key, target] of this.cache) if (target.orgId === data.orgId && target.service === data.linkName) this.cache.delete(key);
      }
    }
  }

  private async load(actor: Actor, linkName: string): Promise<InvokeTarget> {
    // The connection app's read model: this app only reads it.
    const [row]: Row[] = await this.store.dataSource.query(
      `SELECT c.service, c.service_type, c.auth_type, c.parameters, c.use_login_user_credentials, k.status, k.credential_ref
         FROM connections c
         LEFT JOIN connection_credentials k ON k.org_id = c.org_id AND k.link_name = c.link_name
              AND k.user_key = CASE WHEN c.use_login_user_credentials THEN $3 ELSE '*' END
        WHERE c.org_id = $1 AND c.link_name = $2`,
      [actor.orgId, linkName, actor.userId],
    );
    if (!row) throw new DomainError(ErrorCodes.connectionNotFound, `No connection with link name "${linkName}" exists in this organization.`);
    if (!row.credential_ref || !row.status) {
      if (row.use_login_user_credentials) {
        throw new DomainError(ErrorCodes.userNotAuthorized, `You have not authorized the connection "${linkName}" with your own account yet: POST /v1/connections/${linkName}/authorize.`);
      }
      throw new DomainError(ErrorCodes.connectionNotConnected, `The connection "${linkName}" is not authorized yet: POST /v1/connections/${linkName}/authorize.`);
    }
    if (row.status === 'revoked') throw new DomainError(ErrorCodes.connectionRevoked, `The connection "${linkName}" is revoked. Authorize it again to use it.`);
    const stored = await this.vault.getVersioned<StoredCredential>(this.store.dataSource.manager, row.credential_ref, actor.orgId);
    if (!stored) throw new DomainError(ErrorCodes.connectionRevoked, `The connection "${linkName}" has no usable credential. Authorize it again.`);
    const service = serviceTargetOf(await this.services.source(actor.orgId, { service: row.service, serviceType: row.service_type, parameters: row.parameters }));
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
