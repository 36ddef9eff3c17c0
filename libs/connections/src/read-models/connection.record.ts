import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuthType, RevokedReason } from '@plugboard/contracts';

@Entity('connections')
export class ConnectionRecord {
  @PrimaryColumn({ name: 'org_id', type: 'text' }) orgId!: string;
  @PrimaryColumn({ name: 'link_name', type: 'text' }) linkName!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) service!: string;
  @Column({ name: 'service_type', type: 'text' }) serviceType!: 'predefined' | 'custom';
  @Column({ name: 'auth_type', type: 'text' }) authType!: AuthType;
  @Column({ type: 'jsonb' }) scopes!: string[];
  @Column({ type: 'jsonb' }) parameters!: Record<string, string>;
  @Column({ name: 'use_login_user_credentials', type: 'boolean' }) useLoginUserCredentials!: boolean;
  @Column({ type: 'boolean' }) internal!: boolean;
  @Column({ type: 'text' }) owner!: string;
  @Column({ name: 'reauthorization_required', type: 'boolean' }) reauthorizationRequired!: boolean;
  /** ConnectionDegraded, until ConnectionRecovered. */
  @Column({ type: 'boolean', default: false }) degraded!: boolean;
  @Column({ type: 'integer' }) revision!: number;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** A credential of a connection: `userKey` is `*` for the connection's own, else the user's id. No secret here. */
@Entity('connection_credentials')
export class CredentialRecord {
  @PrimaryColumn({ name: 'org_id', type: 'text' }) orgId!: string;
  @PrimaryColumn({ name: 'link_name', type: 'text' }) linkName!: string;
  @PrimaryColumn({ name: 'user_key', type: 'text' }) userKey!: string;
  @Column({ type: 'text' }) status!: 'connected' | 'revoked';
  @Column({ name: 'credential_ref', type: 'uuid' }) credentialRef!: string;
  @Column({ name: 'revoked_reason', type: 'text', nullable: true }) revokedReason!: RevokedReason | null;
  @Column({ name: 'granted_scopes', type: 'jsonb', nullable: true }) grantedScopes!: string[] | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
  @Column({ name: 'last_authorized_at', type: 'timestamptz' }) lastAuthorizedAt!: Date;
  @Column({ name: 'last_refreshed_at', type: 'timestamptz', nullable: true }) lastRefreshedAt!: Date | null;
  /** Values the provider gave with this credential (token response or callback), as the catalog declares them. */
  @Column({ type: 'jsonb', default: {} }) parameters!: Record<string, string>;
  @Column({ name: 'reauthorization_required', type: 'boolean', default: false }) reauthorizationRequired!: boolean;
}
