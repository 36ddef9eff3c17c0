import { fillTemplate, type CatalogEntry, type ConnectionParameter } from '@plugboard/catalog';
import type { ServiceDefinition } from '@plugboard/contracts';
import type { Injection } from './inject-credentials';

/**
 * How calls through a connection's service go, whichever kind it is: ServiceDefinitions (libs/registry) decides
 * "predefined or custom" once and builds this with `predefinedCalls` or `customCalls`; what takes calls or verifies
 * a credential reads it without asking again.
 */
export interface ServiceCalls {
  baseUrl: string | null;
  allowedHosts: string[];
  /** The path of its verification call, when it declares one. */
  verifyPath: string | null;
  /** How its credential travels; null for an OAuth 1.0a service whose consumer is not configured or that signs with RSA. */
  injection: Injection | null;
  /**
   * A predefined service's URLs are templates, filled with the connection's parameters when a call is made (some
   * are learned at authorization, after the service is first read); a custom service's are used as they are.
   */
  templates: { parameters: ConnectionParameter[]; values: Record<string, string> } | null;
}

/** A catalog entry's calls, with the connection's parameters and, for OAuth 1.0a, the consumer it signs with. */
export function predefinedCalls(entry: CatalogEntry, values: Record<string, string>, oauth1Consumer: { key: string; secret: string } | null = null): ServiceCalls {
  const base = { baseUrl: entry.baseUrl, allowedHosts: entry.allowedHosts, verifyPath: entry.verify?.path ?? null, templates: { parameters: entry.connectionParameters ?? [], values } };
  switch (entry.authType) {
    case 'api_key':
      return { ...base, injection: { kind: 'api_key', params: entry.apiKey.params.map((p) => ({ name: p.name, paramType: p.paramType, prefix: p.prefix })) } };
    case 'basic':
      return { ...base, injection: { kind: 'basic' } };
    case 'oauth2':
      return { ...base, injection: { kind: 'oauth2', paramType: entry.oauth2.paramType, header: entry.oauth2.accessTokenHeader } };
    case 'oauth1':
      return {
        ...base,
        injection:
          oauth1Consumer && entry.oauth1.signatureMethod !== 'RSA-SHA1'
            ? { kind: 'oauth1', paramType: entry.oauth1.paramType, consumerKey: oauth1Consumer.key, consumerSecret: oauth1Consumer.secret, signatureMethod: entry.oauth1.signatureMethod }
            : null,
      };
  }
}

/** A custom service's calls, with its OAuth 1.0a consumer's secret when it has one. */
export function customCalls(d: ServiceDefinition, oauth1ConsumerSecret: string | null = null): ServiceCalls {
  const base = { baseUrl: d.baseUrl ?? null, allowedHosts: d.allowedHosts, verifyPath: d.verify?.path ?? null, templates: null };
  if (d.apiKey) return { ...base, injection: { kind: 'api_key', params: d.apiKey.params } };
  if (d.oauth2) return { ...base, injection: { kind: 'oauth2', paramType: d.oauth2.paramType } };
  if (d.oauth1) {
    return {
      ...base,
      injection: oauth1ConsumerSecret ? { kind: 'oauth1', paramType: d.oauth1.paramType, consumerKey: d.oauth1.consumerKey, consumerSecret: oauth1ConsumerSecret, signatureMethod: 'HMAC-SHA1' } : null,
    };
  }
  return { ...base, injection: { kind: 'basic' } };
}

/** A URL or path of the service, its templates filled (values that do not match their parameter's pattern throw). */
export function fillServiceUrl(calls: ServiceCalls, template: string): string {
  return calls.templates ? fillTemplate(template, calls.templates.parameters, calls.templates.values) : template;
}

/** Where calls with a connection's credential go, and how the credential travels. */
export interface ServiceTarget {
  baseUrl: string | null;
  allowedHosts: string[];
  injection: Injection;
}

/**
 * How a service takes calls: its base URL and hosts (templates filled with the connection's parameters, which
 * must match their patterns), and how its credential is injected. Null when its credential cannot travel (see
 * `ServiceCalls.injection`).
 */
export function serviceTargetOf(resolved: ServiceCalls): ServiceTarget | null {
  if (!resolved.injection) return null;
  const fill = (template: string) => fillServiceUrl(resolved, template);
  return { baseUrl: resolved.baseUrl === null ? null : fill(resolved.baseUrl), allowedHosts: resolved.allowedHosts.map(fill), injection: resolved.injection };
}
