import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, type Repository } from 'typeorm';
import { findCatalogEntry, loadCatalog } from '@plugboard/catalog';
import { decodeLinkNameCursor, DomainError, encodeLinkNameCursor, ErrorCodes, type CallbackUrl, type ListServicesRequest, type Page, type ServiceView } from '@plugboard/contracts';
import { callbackUrlsOf, PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { ServiceRecord } from './service.record';
import { toPredefinedView, toServiceView } from './service.view';

/** Reads of services: the org's custom ones from the read model, the predefined ones from the catalog. */
@Injectable()
export class ServiceReader {
  private readonly callbacks: Record<'oauth1' | 'oauth2', CallbackUrl[]>;

  constructor(
    @InjectRepository(ServiceRecord) private readonly services: Repository<ServiceRecord>,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.callbacks = { oauth1: callbackUrlsOf(config, 'oauth1'), oauth2: callbackUrlsOf(config, 'oauth2') };
  }

  /** One service of the org, custom or predefined; `service_not_found` otherwise (another org's too). */
  async get(orgId: string, linkName: string): Promise<ServiceView> {
    const record = await this.services.findOneBy({ orgId, linkName });
    if (record) return this.withCallbacks(toServiceView(record));
    const entry = findCatalogEntry(linkName);
    if (entry) return this.withCallbacks(toPredefinedView(entry));
    throw new DomainError(ErrorCodes.serviceNotFound, `No service with link name "${linkName}" exists in this organization.`);
  }

  /**
   * How many connections a custom service has, from the log itself, for the decision to delete it: the read model's
   * count follows a subscription, and may not have seen a connection deleted a moment ago.
   */
  async connectionCount(orgId: string, linkName: string): Promise<number> {
    const [row] = await this.services.manager.query(
      `SELECT (count(*) FILTER (WHERE type = 'ConnectionCreated' AND data->'service'->>'linkName' = $2 AND data->'service'->>'type' = 'custom')
             - count(*) FILTER (WHERE type = 'ConnectionDeleted' AND data->>'service' = $2))::int AS connections
         FROM events
        WHERE metadata->>'orgId' = $1 AND data->>'orgId' = $1 AND category = 'connection' AND type IN ('ConnectionCreated', 'ConnectionDeleted')`,
      [orgId, linkName],
    );
    return Math.max(row?.connections ?? 0, 0);
  }

  /** Predefined and custom services merged in link-name order, filtered, one page at a time. */
  async list(request: ListServicesRequest & { limit: number }): Promise<Page<ServiceView>> {
    const { actor, type, authType, category, q, limit } = request;
    const after = decodeLinkNameCursor(request.cursor);
    const text = q?.trim().toLowerCase();
    const custom: ServiceView[] = [];
    // Custom services have no category: a category filter lists predefined ones only.
    if (type !== 'predefined' && !category) {
      const query = this.services.createQueryBuilder('s').where('s.org_id = :orgId', { orgId: actor.orgId }).andWhere('s.link_name > :after', { after });
      if (authType) query.andWhere('s.auth_type = :authType', { authType });
      if (text) {
        const like = `%${text.replace(/[\\%_]/g, '\\$&')}%`;
        query.andWhere(new Brackets((b) => b.where('lower(s.name) LIKE :like', { like }).orWhere('s.link_name LIKE :like', { like })));
      }
      custom.push(...(await query.orderBy('s.link_name', 'ASC').limit(limit + 1).getMany()).map(toServiceView));
    }
    const predefined =
      type === 'custom'
        ? []
        : loadCatalog()
            .filter((e) => e.linkName > after && (!authType || e.authType === authType) && (!category || e.category === category))
            .filter((e) => !text || `${e.name}\n${e.linkName}\n${e.description}\n${e.category}`.toLowerCase().includes(text))
            .sort((a, b) => (a.linkName < b.linkName ? -1 : 1))
            .slice(0, limit + 1)
            .map((e) => toPredefinedView(e));
    const merged = [...custom, ...predefined].sort((a, b) => (a.linkName < b.linkName ? -1 : 1));
    const items = merged.slice(0, limit);
    const more = merged.length > limit;
    return { items: items.map((view) => this.withCallbacks(view)), nextCursor: more ? encodeLinkNameCursor(items[items.length - 1].linkName) : null };
  }

  /** The redirect URIs to register, on the services whose flow has one (OAuth 1.0a, the OAuth 2 authorization code). */
  private withCallbacks(view: ServiceView): ServiceView {
    if (view.authType === 'oauth1') return { ...view, callbackUrls: this.callbacks.oauth1 };
    if (view.authType === 'oauth2' && view.oauth2?.grantType !== 'client_credentials') return { ...view, callbackUrls: this.callbacks.oauth2 };
    return view;
  }
}
