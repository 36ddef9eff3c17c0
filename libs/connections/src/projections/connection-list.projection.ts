import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertNever, type ConnectionEvent, type RecordedEvent } from '@plugboard/contracts';
import { OWN_CREDENTIAL } from '@plugboard/connection-domain';
import type { Projection } from '@plugboard/event-store';
import { ConnectionRecord, CredentialRecord } from '../read-models/connection.record';

/** Builds `connections` and `connection_credentials` from `connection-*` streams. */
@Injectable()
export class ConnectionListProjection implements Projection {
  readonly name = 'connections';
  readonly category = 'connection';
  readonly handles: ConnectionEvent['type'][] = ['ConnectionCreated', 'ConnectionEdited', 'ConnectionAuthorized', 'ConnectionRevoked', 'ConnectionDeleted', 'TokenRefreshed', 'TokenRefreshFailed', 'ReauthorizationRequired', 'ConnectionDegraded', 'ConnectionRecovered'];
  readonly tables = ['connection_credentials', 'connections'];

  async apply(recorded: RecordedEvent, manager: EntityManager): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ConnectionEvent;
    const connections = manager.getRepository(ConnectionRecord);
    const credentials = manager.getRepository(CredentialRecord);
    const key = { orgId: event.data.orgId, linkName: event.data.linkName };
    const touched = { revision: recorded.streamVersion, updatedAt: new Date(recorded.recordedAt) };
    switch (event.type) {
      case 'ConnectionCreated': {
        const d = event.data;
        await connections.upsert(
          {
            ...key,
            name: d.name,
            service: d.service.linkName,
            serviceType: d.service.type,
            authType: d.service.authType,
            scopes: d.scopes,
            parameters: d.parameters,
            useLoginUserCredentials: d.useLoginUserCredentials,
            internal: d.internal,
            owner: d.owner,
            reauthorizationRequired: false,
            degraded: false,
            revision: recorded.streamVersion,
            createdAt: new Date(d.createdAt),
            updatedAt: new Date(d.createdAt),
          },
          ['orgId', 'linkName'],
        );
        return;
      }
      case 'ConnectionEdited':
        await connections.update(key, { ...event.data.changes, ...(event.data.reauthorizationRequired ? { reauthorizationRequired: true } : {}), ...touched });
        return;
      case 'ConnectionAuthorized': {
        const d = event.data;
        await credentials.upsert(
          {
            ...key,
            userKey: d.userId ?? OWN_CREDENTIAL,
            status: 'connected',
            credentialRef: d.credentialRef,
            revokedReason: null,
            grantedScopes: d.grantedScopes,
            expiresAt: d.expiresAt ? new Date(d.expiresAt) : null,
            lastAuthorizedAt: new Date(d.authorizedAt),
            lastRefreshedAt: null,
            parameters: d.parameters ?? {},
            reauthorizationRequired: false,
          },
          ['orgId', 'linkName', 'userKey'],
        );
        await connections.update(key, { reauthorizationRequired: false, ...touched });
        return;
      }
      case 'ConnectionRevoked':
        await credentials.update({ ...key, userKey: event.data.userId ?? OWN_CREDENTIAL }, { status: 'revoked', revokedReason: event.data.reason });
        await connections.update(key, touched);
        return;
      case 'ConnectionDeleted':
        await connections.delete(key);
        // A connection created again under the link name starts healthy.
        await manager.query(`DELETE FROM connection_health WHERE org_id = $1 AND link_name = $2`, [key.orgId, key.linkName]);
        return;
      case 'TokenRefreshed':
        await credentials.update(
          { ...key, userKey: event.data.userId ?? OWN_CREDENTIAL },
          { expiresAt: event.data.expiresAt ? new Date(event.data.expiresAt) : null, lastRefreshedAt: new Date(event.data.refreshedAt) },
        );
        return;
      case 'TokenRefreshFailed':
        return;
      case 'ReauthorizationRequired':
        await credentials.update({ ...key, userKey: event.data.userId ?? OWN_CREDENTIAL, credentialRef: event.data.credentialRef }, { reauthorizationRequired: true });
        await connections.update(key, touched);
        return;
      case 'ConnectionDegraded':
      case 'ConnectionRecovered':
        await connections.update(key, { degraded: event.type === 'ConnectionDegraded', revision: recorded.streamVersion });
        return;
      default:
        return assertNever(event);
    }
  }
}
