import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, type ConnectionEvent, type RecordedEvent } from '@plugboard/contracts';
import { OWN_CREDENTIAL } from '@plugboard/connection-domain';
import type { Projection } from '@plugboard/event-store';

/**
 * Builds `connections` and `connection_credentials` from `connection-*` streams, inline: `connectionCommands` applies
 * it in each command's transaction, so it runs wherever a connection command does (connection, token-refresh).
 */
@Injectable()
export class ConnectionListProjection implements Projection {
  readonly name = 'connections';
  readonly category = 'connection';
  readonly inline = true;
  readonly handles: ConnectionEvent['type'][] = ['ConnectionCreated', 'ConnectionEdited', 'ConnectionAuthorized', 'ConnectionRevoked', 'ConnectionDeleted', 'TokenRefreshed', 'TokenRefreshFailed', 'ReauthorizationRequired', 'ConnectionDegraded', 'ConnectionRecovered'];
  readonly tables = ['connection_credentials', 'connections'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ConnectionEvent;
    const { orgId, linkName } = event.data;
    const revision = recorded.streamVersion;
    const at = recorded.recordedAt;
    const userKey = 'userId' in event.data ? (event.data.userId ?? OWN_CREDENTIAL) : OWN_CREDENTIAL;
    switch (event.type) {
      case 'ConnectionCreated': {
        const d = event.data;
        await manager.query(
          `INSERT INTO connections (org_id, link_name, name, service, service_type, auth_type, scopes, parameters, use_login_user_credentials, internal, owner,
                                    reauthorization_required, degraded, revision, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false, false, $12, $13, $13)
           ON CONFLICT (org_id, link_name) DO UPDATE SET name = $3, service = $4, service_type = $5, auth_type = $6, scopes = $7, parameters = $8,
             use_login_user_credentials = $9, internal = $10, owner = $11, reauthorization_required = false, degraded = false, revision = $12, created_at = $13, updated_at = $13`,
          [orgId, linkName, d.name, d.service.linkName, d.service.type, d.service.authType, JSON.stringify(d.scopes), JSON.stringify(d.parameters), d.useLoginUserCredentials, d.internal, d.owner, revision, d.createdAt],
        );
        return;
      }
      case 'ConnectionEdited': {
        const { changes, reauthorizationRequired } = event.data;
        await manager.query(
          `UPDATE connections SET name = coalesce($3, name), scopes = coalesce($4::jsonb, scopes), reauthorization_required = reauthorization_required OR $5,
                  revision = $6, updated_at = $7
            WHERE org_id = $1 AND link_name = $2`,
          [orgId, linkName, changes.name ?? null, changes.scopes ? JSON.stringify(changes.scopes) : null, reauthorizationRequired, revision, at],
        );
        return;
      }
      case 'ConnectionAuthorized': {
        const d = event.data;
        await manager.query(
          `INSERT INTO connection_credentials (org_id, link_name, user_key, status, credential_ref, revoked_reason, granted_scopes, expires_at, last_authorized_at,
                                               last_refreshed_at, parameters, reauthorization_required)
           VALUES ($1, $2, $3, 'connected', $4, NULL, $5, $6, $7, NULL, $8, false)
           ON CONFLICT (org_id, link_name, user_key) DO UPDATE SET status = 'connected', credential_ref = $4, revoked_reason = NULL, granted_scopes = $5,
             expires_at = $6, last_authorized_at = $7, last_refreshed_at = NULL, parameters = $8, reauthorization_required = false`,
          [orgId, linkName, userKey, d.credentialRef, d.grantedScopes ? JSON.stringify(d.grantedScopes) : null, d.expiresAt || null, d.authorizedAt, JSON.stringify(d.parameters ?? {})],
        );
        await touch(manager, orgId, linkName, revision, at, 'reauthorization_required = false');
        return;
      }
      case 'ConnectionRevoked':
        await manager.query(`UPDATE connection_credentials SET status = 'revoked', revoked_reason = $4 WHERE org_id = $1 AND link_name = $2 AND user_key = $3`, [
          orgId,
          linkName,
          userKey,
          event.data.reason,
        ]);
        await touch(manager, orgId, linkName, revision, at);
        return;
      case 'ConnectionDeleted':
        await manager.query(`DELETE FROM connections WHERE org_id = $1 AND link_name = $2`, [orgId, linkName]);
        // A connection created again under the link name starts healthy.
        await manager.query(`DELETE FROM connection_health WHERE org_id = $1 AND link_name = $2`, [orgId, linkName]);
        return;
      case 'TokenRefreshed':
        await manager.query(`UPDATE connection_credentials SET expires_at = $4, last_refreshed_at = $5 WHERE org_id = $1 AND link_name = $2 AND user_key = $3`, [
          orgId,
          linkName,
          userKey,
          event.data.expiresAt || null,
          event.data.refreshedAt,
        ]);
        return;
      case 'TokenRefreshFailed':
        return;
      case 'ReauthorizationRequired':
        await manager.query(`UPDATE connection_credentials SET reauthorization_required = true WHERE org_id = $1 AND link_name = $2 AND user_key = $3 AND credential_ref = $4`, [
          orgId,
          linkName,
          userKey,
          event.data.credentialRef,
        ]);
        await touch(manager, orgId, linkName, revision, at);
        return;
      case 'ConnectionDegraded':
      case 'ConnectionRecovered':
        await manager.query(`UPDATE connections SET degraded = $3, revision = $4 WHERE org_id = $1 AND link_name = $2`, [orgId, linkName, event.type === 'ConnectionDegraded', revision]);
        return;
      default:
        return assertNever(event);
    }
  }
}

/** The connection's revision and time of its last change (and `also`, a fixed assignment). */
async function touch(manager: EntityManager, orgId: string, linkName: string, revision: number, at: string, also?: string): Promise<void> {
  await manager.query(`UPDATE connections SET ${also ? `${also}, ` : ''}revision = $3, updated_at = $4 WHERE org_id = $1 AND link_name = $2`, [orgId, linkName, revision, at]);
}
