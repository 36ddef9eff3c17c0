import { Column, Entity, PrimaryColumn, VirtualColumn } from 'typeorm';
import type { ServiceCreated } from '@plugboard/contracts';

type ServiceData = ServiceCreated['data'];

/** One custom service as lists and reads show it. Secrets are not here: only the vault reference. */
@Entity('services')
export class ServiceRecord {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @PrimaryColumn({ name: 'link_name', type: 'text' })
  linkName!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'auth_type', type: 'text' })
  authType!: ServiceData['authType'];

  @Column({ name: 'base_url', type: 'text', nullable: true })
  baseUrl!: string | null;

  @Column({ name: 'allowed_hosts', type: 'jsonb' })
  allowedHosts!: string[];

  /** The block of its auth type (`apiKey`, `oauth1` or `oauth2`) and its verification call, without secret values. */
  @Column({ name: 'auth_config', type: 'jsonb', nullable: true })
  authConfig!: Pick<ServiceData, 'apiKey' | 'oauth1' | 'oauth2' | 'verify'>;

  @Column({ type: 'text' })
  owner!: string;

  /** From `service_connection_counts` (ServiceConnectionCountProjection), read with the row. */
  @VirtualColumn({
    type: 'integer',
    query: (alias) => `SELECT coalesce((SELECT c.connection_count FROM service_connection_counts c WHERE c.org_id = ${alias}.org_id AND c.link_name = ${alias}.link_name), 0)`,
  })
  connectionCount!: number;

  /** Stream version of the last event applied: lets a projection tell an old event from a new one. */
  @Column({ type: 'integer' })
  revision!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
