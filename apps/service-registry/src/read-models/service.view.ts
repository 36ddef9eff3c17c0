import { MASKED_SECRET, type ServiceView } from '@plugboard/contracts';
import type { ServiceRecord } from './service.record';

/** What callers see of a custom service: its secrets only as a mask. */
export function toServiceView(record: ServiceRecord): ServiceView {
  const view: ServiceView = {
    name: record.name,
    linkName: record.linkName,
    type: 'custom',
    authType: record.authType,
    baseUrl: record.baseUrl,
    allowedHosts: record.allowedHosts,
    owner: record.owner,
    connectionCount: record.connectionCount,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
  const { apiKey, oauth1, oauth2 } = record.authConfig ?? {};
  if (apiKey) view.apiKey = apiKey;
  if (oauth1) {
    const { consumerSecretRef: _ref, ...rest } = oauth1;
    view.oauth1 = { ...rest, paramType: rest.paramType as 'query' | 'form' | 'header', consumerSecret: MASKED_SECRET };
  }
  if (oauth2) {
    const { clientSecretRef: _ref, ...rest } = oauth2;
    view.oauth2 = { ...rest, authorizeUrl: rest.authorizeUrl ?? undefined, refreshTokenUrl: rest.refreshTokenUrl ?? undefined, clientSecret: MASKED_SECRET };
  }
  return view;
}
