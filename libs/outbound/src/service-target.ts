import { fillTemplate, type CatalogEntry } from '@plugboard/catalog';
import type { ServiceDefinition } from '@plugboard/contracts';
import type { Injection } from './inject-credentials';

/** The service of a connection, as an app loads it: the catalog entry, or the custom service's definition, with the OAuth 1 consumer's secret when it has one. */
export type ServiceSource =
  | { type: 'predefined'; entry: CatalogEntry; parameters: Record<string, string>; oauth1Consumer?: { key: string; secret: string } | null }
  | { type: 'custom'; definition: ServiceDefinition; oauth1ConsumerSecret?: string | null };

/** Where calls with a connection's credential go, and how the credential travels. */
export interface ServiceTarget {
  baseUrl: string | null;
  allowedHosts: string[];
  injection: Injection;
}

/**
 * How a service takes calls: its base URL and hosts (templates filled with the connection's parameters, which
 * must match their patterns), and how its credential is injected. Null for an OAuth 1.0a service whose consumer is
 * not configured (predefined ones: PLUGBOARD_PREDEFINED_CLIENTS) or signs with RSA.
 */
export function serviceTargetOf(source: ServiceSource): ServiceTarget | null {
  if (source.type === 'predefined') {
    const { entry } = source;
    const fill = (template: string) => fillTemplate(template, entry.connectionParameters ?? [], source.parameters);
    const base = { baseUrl: fill(entry.baseUrl), allowedHosts: entry.allowedHosts.map(fill) };
    switch (entry.authType) {
      case 'api_key':
        return { ...base, injection: { kind: 'api_key', params: entry.apiKey.params.map((p) => ({ name: p.name, paramType: p.paramType, prefix: p.prefix })) } };
      case 'basic':
        return { ...base, injection: { kind: 'basic' } };
      case 'oauth2':
        return { ...base, injection: { kind: 'oauth2', paramType: entry.oauth2.paramType, header: entry.oauth2.accessTokenHeader } };
      case 'oauth1': {
        const consumer = source.oauth1Consumer;
        if (!consumer || entry.oauth1.signatureMethod === 'RSA-SHA1') return null;
        return { ...base, injection: { kind: 'oauth1', paramType: entry.oauth1.paramType, consumerKey: consumer.key, consumerSecret: consumer.secret, signatureMethod: entry.oauth1.signatureMethod } };
      }
    }
  }
  const { definition: d } = source;
  const base = { baseUrl: d.baseUrl ?? null, allowedHosts: d.allowedHosts };
  if (d.apiKey) return { ...base, injection: { kind: 'api_key', params: d.apiKey.params } };
  if (d.oauth2) return { ...base, injection: { kind: 'oauth2', paramType: d.oauth2.paramType } };
  if (d.oauth1) {
    if (!source.oauth1ConsumerSecret) return null;
    return { ...base, injection: { kind: 'oauth1', paramType: d.oauth1.paramType, consumerKey: d.oauth1.consumerKey, consumerSecret: source.oauth1ConsumerSecret, signatureMethod: 'HMAC-SHA1' } };
  }
  return { ...base, injection: { kind: 'basic' } };
}
