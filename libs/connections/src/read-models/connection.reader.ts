import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { decodeLinkNameCursor, DomainError, encodeLinkNameCursor, ErrorCodes, type ConnectionCallError, type ConnectionView, type ListConnectionsRequest, type Page } from '@plugboard/contracts';
import { OWN_CREDENTIAL } from '@plugboard/connection-domain';
import { ConnectionRecord, CredentialRecord } from './connection.record';

/** What the health monitor keeps of a connection's calls (connection_health). */
interface Health {
  last_used_at: Date | null;
  last_error: ConnectionCallError | null;
  consecutive_failures: number;
}

function toView(record: ConnectionRecord, credential: CredentialRecord | null, health: Health | undefined): ConnectionView {
  return {
    name: record.name,
    linkName: record.linkName,
    service: record.service,
    serviceType: record.serviceType,
    authType: record.authType,
    scopes: record.scopes,
    // The connection's own values, and those its provider gave with the caller's credential.
    parameters: { ...record.parameters, ...(credential?.parameters ?? {}) },
    useLoginUserCredentials: record.useLoginUserCredentials,
    internal: record.internal,
    owner: record.owner,
    status: credential?.status ?? 'pending',
    revokedReason: credential?.status === 'revoked' ? credential.revokedReason : null,
    reauthorizationRequired: record.reauthorizationRequired || (credential?.status === 'connected' && credential.reauthorizationRequired),
    lastAuthorizedAt: credential?.lastAuthorizedAt.toISOString() ?? null,
    lastRefreshedAt: credential?.lastRefreshedAt?.toISOString() ?? null,
    health: record.degraded ? 'degraded' : 'healthy',
    lastUsedAt: health?.last_used_at ? new Date(health.last_used_at).toISOString() : null,
    lastError: health?.last_error ?? null,
    consecutiveFailures: health?.consecutive_failures ?? 0,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

/** Reads of connections as one user sees them: with login-user credentials, the status is that user's own. */
@Injectable()
export class ConnectionReader {
  constructor(
    @InjectRepository(ConnectionRecord) private readonly connections: Repository<ConnectionRecord>,
    @InjectRepository(CredentialRecord) private readonly credentials: Repository<CredentialRecord>,
  ) {}

  async get(orgId: string, linkName: string, userId: string): Promise<ConnectionView> {
    const record = await this.connections.findOneBy({ orgId, linkName });
    if (!record) throw new DomainError(ErrorCodes.connectionNotFound, `No connection with link name "${linkName}" exists in this organization.`);
    const userKey = record.useLoginUserCredentials ? userId : OWN_CREDENTIAL;
    const [credential, health] = await Promise.all([this.credentials.findOneBy({ orgId, linkName, userKey }), this.health(orgId, [linkName])]);
    return toView(record, credential, health.get(linkName));
  }


  /** own: mine (not internal); shared: others', authorized with my credentials; internal: made by products. */
  async list(request: ListConnectionsRequest & { limit: number; view: 'own' | 'shared' | 'internal' }): Promise<Page<ConnectionView>> {
    const { actor, view, limit } = request;
    const after = decodeLinkNameCursor(request.cursor);
    const query = this.connections
      .createQueryBuilder('c')
      .leftJoinAndMapOne(
        'c.credential',
        CredentialRecord,
        'k',
        `k.org_id = c.org_id AND k.link_name = c.link_name AND k.user_key = CASE WHEN c.use_login_user_credentials THEN :userId ELSE '${OWN_CREDENTIAL}' END`,
        { userId: actor.userId },
      )
      .where('c.org_id = :orgId', { orgId: actor.orgId })
      .andWhere('c.link_name > :after', { after });
    if (view === 'own') query.andWhere('c.owner = :userId AND NOT c.internal', { userId: actor.userId });
    if (view === 'internal') query.andWhere('c.internal');
    if (view === 'shared') query.andWhere('c.use_login_user_credentials AND c.owner <> :userId AND k.user_key IS NOT NULL', { userId: actor.userId });
    const rows = (await query.orderBy('c.link_name', 'ASC').limit(limit + 1).getMany()) as (ConnectionRecord & { credential?: CredentialRecord })[];
    const page = rows.slice(0, limit);
    const health = await this.health(actor.orgId, page.map((r) => r.linkName));
    const items = page.map((r) => toView(r, r.credential ?? null, health.get(r.linkName)));
    return { items, nextCursor: rows.length > limit ? encodeLinkNameCursor(items[items.length - 1].linkName) : null };
  }

  private async health(orgId: string, linkNames: string[]): Promise<Map<string, Health>> {
    if (linkNames.length === 0) return new Map();
    const rows = (await this.connections.manager.query(
      `SELECT link_name, last_used_at, last_error, consecutive_failures FROM connection_health WHERE org_id = $1 AND link_name = ANY($2::text[])`,
      [orgId, linkNames],
    )) as (Health & { link_name: string })[];
    return new Map(rows.map((r) => [r.link_name, r]));
  }
}
