import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CATALOG_DATA_PATH,
  CatalogEntrySchema,
  CatalogSchema,
  fillTemplate,
  findCatalogEntry,
  hostIsAllowed,
  loadCatalog,
  neededBeforeAuthorization,
  parametersFromAuthorization,
  placeholdersIn,
  templatedHost,
  type CatalogEntry,
} from './index';

const raw: Record<string, unknown>[] = JSON.parse(readFileSync(CATALOG_DATA_PATH, 'utf8'));
const catalog = loadCatalog();
const byName = new Map(catalog.map((entry) => [entry.linkName, entry]));

/** Services the catalog must always offer, by link name. */
const REQUIRED = [
  'zoho_com',
  'zoho_eu',
  'zoho_in',
  'zoho_com_au',
  'zoho_com_cn',
  'google',
  'microsoft',
  'github',
  'gitlab',
  'slack',
  'salesforce',
  'hubspot',
  'dropbox',
  'box',
  'atlassian',
  'notion',
  'shopify',
  'stripe',
  'twilio',
  'sendgrid',
  'mailchimp',
  'zoom',
  'asana',
  'linear',
  'intercom',
  'quickbooks',
  'xero',
  'docusign',
  'linkedin',
  'twitter',
  'twitter_oauth1',
  'trello',
  'discord',
  'spotify',
  'calendly',
  'airtable',
  'pipedrive',
  'freshdesk',
  'zendesk',
];

/** Every string of an entry except its prose and parameter declarations, with a readable path. */
function templatedValues(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => templatedValues(item, `${path}[${index}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) =>
      path === '' && ['name', 'description', 'docsUrl', 'connectionParameters'].includes(key) ? [] : templatedValues(child, path ? `${path}.${key}` : key),
    );
  }
  return [];
}

function urlsOf(entry: CatalogEntry): { path: string; value: string }[] {
  return templatedValues(entry).filter(({ path }) => /(^baseUrl$|Url$)/.test(path));
}

function exampleValues(entry: CatalogEntry): Record<string, string> {
  return Object.fromEntries((entry.connectionParameters ?? []).map((param) => [param.name, param.example]));
}

/** Registrable domain, approximately: the last two labels, or three under a two-letter country code's com/co/net/org. */
function registrableDomain(host: string): string {
  const labels = host.toLowerCase().replace(/^\*\./, '').split('.');
  const last = labels[labels.length - 1];
  const second = labels[labels.length - 2];
  const take = last.length === 2 && ['com', 'co', 'net', 'org', 'gov', 'ac'].includes(second) ? 3 : 2;
  return labels.slice(-take).join('.');
}

/** Documented aliases: the same provider serving its API under a second domain. */
const SIBLING_DOMAINS: Record<string, string[]> = {
  'x.com': ['twitter.com'],
  'algolia.net': ['algolianet.com'],
  'smartsheet.com': ['smartsheet.eu'],
};

describe('service catalog data', () => {
  it('validates every entry against the schema', () => {
    const failures = raw.flatMap((entry, index) => {
      const result = CatalogEntrySchema.safeParse(entry);
      return result.success
        ? []
        : [`${String(entry['linkName'] ?? `#${index}`)}: ${result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`];
    });
    expect(failures).toEqual([]);
    expect(CatalogSchema.safeParse(raw).success).toBe(true);
  });

  it('has at least 300 services, across what a suite\'s customers use', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(300);
    const categories = new Set<string>(catalog.map((entry) => entry.category));
    const wanted = ['accounting', 'crm', 'support', 'hr', 'ecommerce', 'marketing', 'developer', 'storage', 'communication', 'ai'];
    expect(wanted.filter((category) => !categories.has(category))).toEqual([]);
    for (const category of wanted) expect(catalog.filter((entry) => entry.category === category).length).toBeGreaterThanOrEqual(5);
  });

  it('has unique link names', () => {
    const names = catalog.map((entry) => entry.linkName);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it('offers every required provider', () => {
    expect(REQUIRED.filter((linkName) => !byName.has(linkName))).toEqual([]);
  });

  it('keeps descriptions to one sentence', () => {
    const offenders = catalog.filter((entry) => !entry.description.endsWith('.') || /[.!?]\s+[A-Z]/.test(entry.description));
    expect(offenders.map((entry) => entry.linkName)).toEqual([]);
  });

  it('uses https for every URL', () => {
    const offenders = catalog.flatMap((entry) =>
      [...urlsOf(entry), { path: 'docsUrl', value: entry.docsUrl }]
        .filter(({ value }) => !value.startsWith('https://'))
        .map(({ path }) => `${entry.linkName}.${path}`),
    );
    expect(offenders).toEqual([]);
  });

  it('declares every {placeholder} it uses as a connection parameter, and uses every one it declares', () => {
    const problems: string[] = [];
    for (const entry of catalog) {
      const declared = new Set((entry.connectionParameters ?? []).map((param) => param.name));
      const used = new Set<string>();
      for (const { path, value } of templatedValues(entry)) {
        for (const name of placeholdersIn(value)) {
          used.add(name);
          if (!declared.has(name)) problems.push(`${entry.linkName}.${path} uses undeclared {${name}}`);
        }
      }
      // A value the provider gives (a source) may be kept as data only.
      const sourced = new Set((entry.connectionParameters ?? []).filter((param) => param.source).map((param) => param.name));
      for (const name of declared) if (!used.has(name) && !sourced.has(name)) problems.push(`${entry.linkName} declares ${name} but never uses it`);
    }
    expect(problems).toEqual([]);
  });

  it('gives every connection parameter an example that matches its pattern', () => {
    const problems = catalog.flatMap((entry) =>
      (entry.connectionParameters ?? []).filter((param) => !new RegExp(param.pattern).test(param.example)).map((param) => `${entry.linkName}.${param.name}`),
    );
    expect(problems).toEqual([]);
  });

  it('refuses connection parameter values that could move a request to another host or path', () => {
    const hostile = ['', 'a/b', 'a@b', 'a:1', 'a?b', 'a#b', 'a b', 'a\\b', '..', 'evil.example.org', 'x.evil.example/'];
    const problems = catalog.flatMap((entry) =>
      (entry.connectionParameters ?? []).flatMap((param) =>
        hostile.filter((value) => new RegExp(param.pattern).test(value)).map((value) => `${entry.linkName}.${param.name} accepts ${JSON.stringify(value)}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('gives authorization_code entries an authorize URL and client_credentials entries none', () => {
    const problems: string[] = [];
    for (const entry of catalog) {
      if (entry.authType !== 'oauth2') continue;
      const { grantType, authorizeUrl } = entry.oauth2;
      if (grantType === 'authorization_code' && !authorizeUrl) problems.push(`${entry.linkName} lacks authorizeUrl`);
      if (grantType === 'client_credentials' && authorizeUrl) problems.push(`${entry.linkName} has an authorizeUrl`);
    }
    expect(problems).toEqual([]);
  });

  it('suggests scopes for authorization_code entries unless the description says the provider has none', () => {
    const offenders = catalog.filter(
      (entry) =>
        entry.authType === 'oauth2' &&
        entry.oauth2.grantType === 'authorization_code' &&
        entry.oauth2.scopes.length === 0 &&
        !/\b(has no scopes|hence no scopes|hence none)\b/i.test(entry.description),
    );
    expect(offenders.map((entry) => entry.linkName)).toEqual([]);
  });

  it('covers the host of baseUrl with allowedHosts, templated and filled in', () => {
    const problems: string[] = [];
    for (const entry of catalog) {
      const host = templatedHost(entry.baseUrl);
      if (!hostIsAllowed(host, entry.allowedHosts)) problems.push(`${entry.linkName}: ${host} (templated)`);
      const values = exampleValues(entry);
      const filledUrl = new URL(fillTemplate(entry.baseUrl, entry.connectionParameters ?? [], values));
      const filledHosts = entry.allowedHosts.map((pattern) => fillTemplate(pattern, entry.connectionParameters ?? [], values));
      if (!hostIsAllowed(filledUrl.hostname, filledHosts)) problems.push(`${entry.linkName}: ${filledUrl.hostname} (filled)`);
    }
    expect(problems).toEqual([]);
  });

  it('only allows hosts of the provider itself (the base URL\'s domain or a documented alias)', () => {
    const problems: string[] = [];
    for (const entry of catalog) {
      const values = exampleValues(entry);
      const baseDomain = registrableDomain(new URL(fillTemplate(entry.baseUrl, entry.connectionParameters ?? [], values)).hostname);
      const accepted = [baseDomain, ...(SIBLING_DOMAINS[baseDomain] ?? [])];
      for (const pattern of entry.allowedHosts) {
        const domain = registrableDomain(fillTemplate(pattern, entry.connectionParameters ?? [], values));
        if (!accepted.includes(domain)) problems.push(`${entry.linkName}: ${pattern}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('builds valid URLs once the example values are filled in', () => {
    const problems: string[] = [];
    for (const entry of catalog) {
      const values = exampleValues(entry);
      const candidates = [...urlsOf(entry).map(({ value }) => value), ...(entry.verify ? [entry.baseUrl + entry.verify.path] : [])];
      for (const template of candidates) {
        const filled = fillTemplate(template, entry.connectionParameters ?? [], values);
        try {
          if (new URL(filled).protocol !== 'https:') problems.push(`${entry.linkName}: ${filled}`);
        } catch {
          problems.push(`${entry.linkName}: ${filled}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has one Zoho entry per data centre, each on its own accounts and API domain', () => {
    const regions: Record<string, [string, string]> = {
      zoho_com: ['accounts.zoho.com', 'www.zohoapis.com'],
      zoho_eu: ['accounts.zoho.eu', 'www.zohoapis.eu'],
      zoho_in: ['accounts.zoho.in', 'www.zohoapis.in'],
      zoho_com_au: ['accounts.zoho.com.au', 'www.zohoapis.com.au'],
      zoho_com_cn: ['accounts.zoho.com.cn', 'www.zohoapis.com.cn'],
      zoho_jp: ['accounts.zoho.jp', 'www.zohoapis.jp'],
      zoho_ca: ['accounts.zohocloud.ca', 'www.zohoapis.ca'],
      zoho_sa: ['accounts.zoho.sa', 'www.zohoapis.sa'],
      zoho_uk: ['accounts.zoho.uk', 'www.zohoapis.uk'],
    };
    for (const [linkName, [accounts, apis]] of Object.entries(regions)) {
      const entry = byName.get(linkName);
      expect(entry?.authType).toBe('oauth2');
      if (entry?.authType !== 'oauth2') continue;
      expect(new URL(entry.oauth2.authorizeUrl ?? '').hostname).toBe(accounts);
      expect(new URL(entry.oauth2.accessTokenUrl).hostname).toBe(accounts);
      expect(new URL(entry.baseUrl).hostname).toBe(apis);
      expect(entry.oauth2.extraAuthorizeParams).toEqual({ access_type: 'offline', prompt: 'consent' });
    }
  });

  it('models the providers with unusual auth as documented', () => {
    const get = (linkName: string) => {
      const entry = byName.get(linkName);
      if (!entry) throw new Error(`${linkName} missing`);
      return entry;
    };
    const twitter = get('twitter');
    expect(twitter.authType === 'oauth2' && twitter.oauth2.pkce).toBe(true);
    expect(get('twitter_oauth1').authType).toBe('oauth1');
    expect(get('trello').authType).toBe('oauth1');
    expect(get('twilio').authType).toBe('basic');
    const stripe = get('stripe');
    expect(stripe.authType === 'api_key' && stripe.apiKey.params[0]).toMatchObject({ name: 'Authorization', prefix: 'Bearer ' });
    const paypal = get('paypal');
    expect(paypal.authType === 'oauth2' && paypal.oauth2.grantType).toBe('client_credentials');
    const atlassian = get('atlassian');
    expect(atlassian.authType === 'oauth2' && atlassian.oauth2.extraAuthorizeParams['audience']).toBe('api.atlassian.com');
    const google = get('google');
    expect(google.authType === 'oauth2' && google.oauth2.extraAuthorizeParams).toEqual({ access_type: 'offline', prompt: 'consent' });
    const shopify = get('shopify');
    expect(shopify.connectionParameters?.map((param) => param.name)).toEqual(['shop']);
    expect(shopify.allowedHosts).toEqual(['{shop}.myshopify.com']);
    const datadog = get('datadog');
    expect(datadog.authType === 'api_key' && datadog.apiKey.params.map((param) => param.name)).toEqual(['DD-API-KEY', 'DD-APPLICATION-KEY']);
  });
});

describe('catalog schema', () => {
  const valid = {
    linkName: 'example',
    name: 'Example',
    description: 'An example service.',
    docsUrl: 'https://example.com/docs',
    category: 'developer',
    authType: 'api_key',
    baseUrl: 'https://{tenant}.example.com/api',
    allowedHosts: ['{tenant}.example.com'],
    connectionParameters: [{ name: 'tenant', displayName: 'Tenant', pattern: '^[a-z]+$', example: 'acme' }],
    apiKey: { params: [{ name: 'X-API-Key', displayName: 'API key', paramType: 'header' }] },
  };
  const oauth2 = {
    grantType: 'authorization_code',
    authorizeUrl: 'https://example.com/authorize',
    accessTokenUrl: 'https://example.com/token',
    scopes: [{ name: 'read', displayName: 'Read' }],
    scopeDelimiter: 'space',
    tokenEndpointAuth: 'client_secret_post',
    extraAuthorizeParams: {},
    pkce: false,
    paramType: 'header',
  };
  const messages = (value: unknown) => {
    const result = CatalogEntrySchema.safeParse(value);
    return result.success ? [] : result.error.issues.map((issue) => issue.message);
  };

  it('accepts a well-formed entry', () => {
    expect(messages(valid)).toEqual([]);
  });

  it.each([
    ['an undeclared placeholder', { ...valid, baseUrl: 'https://{tenant}.example.com/{region}' }],
    ['an unused parameter', { ...valid, baseUrl: 'https://api.example.com', allowedHosts: ['api.example.com'] }],
    ['a plain http URL', { ...valid, baseUrl: 'http://{tenant}.example.com' }],
    ['a base host outside allowedHosts', { ...valid, allowedHosts: ['{tenant}.example.org'] }],
    ['a wildcard over a TLD', { ...valid, allowedHosts: ['{tenant}.example.com', '*.com'] }],
    ['an example that misses its pattern', { ...valid, connectionParameters: [{ name: 'tenant', displayName: 'Tenant', pattern: '^[a-z]+$', example: 'ACME' }] }],
    ['an unanchored pattern', { ...valid, connectionParameters: [{ name: 'tenant', displayName: 'Tenant', pattern: '[a-z]+', example: 'acme' }] }],
    ['a bare Authorization key', { ...valid, apiKey: { params: [{ name: 'Authorization', displayName: 'Key', paramType: 'header' }] } }],
    ['an unknown field', { ...valid, colour: 'blue' }],
    ['an unknown category', { ...valid, category: 'gardening' }],
    ['a description without a full stop', { ...valid, description: 'No full stop' }],
    ['an authorization_code grant without authorizeUrl', { ...valid, authType: 'oauth2', apiKey: undefined, oauth2: { ...oauth2, authorizeUrl: undefined } }],
    ['a client_credentials grant with authorizeUrl', { ...valid, authType: 'oauth2', apiKey: undefined, oauth2: { ...oauth2, grantType: 'client_credentials' } }],
    ['a reserved authorize parameter', { ...valid, authType: 'oauth2', apiKey: undefined, oauth2: { ...oauth2, extraAuthorizeParams: { redirect_uri: 'https://evil.example' } } }],
  ])('rejects %s', (_label, entry) => {
    expect(messages(JSON.parse(JSON.stringify(entry)))).not.toEqual([]);
  });

  it('rejects duplicate link names across the catalog', () => {
    expect(CatalogSchema.safeParse([valid, valid]).success).toBe(false);
  });

  it('fills templates only with values that match their pattern', () => {
    const params = valid.connectionParameters;
    expect(fillTemplate(valid.baseUrl, params, { tenant: 'acme' })).toBe('https://acme.example.com/api');
    expect(() => fillTemplate(valid.baseUrl, params, { tenant: 'evil.org/x' })).toThrow(/does not match/);
    expect(() => fillTemplate(valid.baseUrl, params, {})).toThrow(/missing/);
  });

  it('matches wildcard hosts one label deep only', () => {
    expect(hostIsAllowed('www.zohoapis.com', ['*.zohoapis.com'])).toBe(true);
    expect(hostIsAllowed('zohoapis.com', ['*.zohoapis.com'])).toBe(false);
    expect(hostIsAllowed('a.b.zohoapis.com', ['*.zohoapis.com'])).toBe(false);
    expect(hostIsAllowed('{shop}.myshopify.com', ['{shop}.myshopify.com'])).toBe(true);
  });
});

describe('catalog loader', () => {
  it('caches the parsed catalog and hands out frozen entries', () => {
    const again = loadCatalog();
    expect(again).not.toBe(catalog);
    expect(again).toEqual(catalog);
    expect(again[0]).toBe(catalog[0]);
    expect(Object.isFrozen(again[0])).toBe(true);
  });

  it('finds entries by link name', () => {
    expect(findCatalogEntry('github')?.name).toBe('GitHub');
    expect(findCatalogEntry('no_such_service')).toBeUndefined();
  });

  // The contracts hold the wire schemas the catalog shares with custom services (scopes, verification calls), and depend on zod only themselves.
  it('depends on zod, node built-ins and the contracts only', () => {
    const sources = readdirSync(__dirname).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'));
    const imports = sources.flatMap((file) =>
      [...readFileSync(join(__dirname, file), 'utf8').matchAll(/from '([^']+)'/g)].map((match) => match[1]),
    );
    expect(imports.filter((source) => !(source === 'zod' || source === '@plugboard/contracts' || source.startsWith('node:') || source.startsWith('./')))).toEqual([]);
  });
});

describe('parameters the provider gives when an authorization completes', () => {
  const entry = (linkName: string) => {
    const found = findCatalogEntry(linkName);
    if (!found) throw new Error(`${linkName} missing`);
    return found;
  };
  const none = { tokenResponse: {}, callback: {} };

  it('declares where Salesforce, Zoho, Slack, QuickBooks and Shopify give them', () => {
    const sources = (linkName: string) => Object.fromEntries((entry(linkName).connectionParameters ?? []).filter((p) => p.source).map((p) => [p.name, `${p.source?.from}:${p.source?.field}`]));
    expect(sources('salesforce')).toEqual({ instance: 'token_response:instance_url' });
    expect(sources('zoho_eu')).toEqual({ apiDomain: 'token_response:api_domain' });
    expect(sources('slack')).toEqual({ teamId: 'token_response:team.id' });
    expect(sources('quickbooks')).toEqual({ realmId: 'callback:realmId' });
    expect(sources('shopify')).toEqual({ shop: 'callback:shop' });
    // Needed in the OAuth URLs, so given when the connection is created; the others come from the provider.
    const needed = (linkName: string) => (entry(linkName).connectionParameters ?? []).filter((p) => neededBeforeAuthorization(entry(linkName), p)).map((p) => p.name);
    expect([needed('salesforce'), needed('shopify'), needed('quickbooks'), needed('slack')]).toEqual([['instance'], ['shop'], [], []]);
  });

  it('takes each value from the token response or the callback, checked against its pattern and the hosts', () => {
    expect(parametersFromAuthorization(entry('quickbooks'), { tokenResponse: {}, callback: { realmId: '9130357766900456' } }, {})).toEqual({ realmId: '9130357766900456' });
    expect(parametersFromAuthorization(entry('slack'), { tokenResponse: { team: { id: 'T0123ABCD', name: 'Acme' } }, callback: {} }, {})).toEqual({ teamId: 'T0123ABCD' });
    expect(parametersFromAuthorization(entry('zoho_eu'), { tokenResponse: { api_domain: 'https://www.zohoapis.eu' }, callback: {} }, {})).toEqual({ apiDomain: 'www.zohoapis.eu' });
    expect(parametersFromAuthorization(entry('salesforce'), { tokenResponse: { instance_url: 'https://acme.my.salesforce.com' }, callback: {} }, { instance: 'acme' })).toEqual({ instance: 'acme' });
    expect(parametersFromAuthorization(entry('shopify'), { tokenResponse: {}, callback: { shop: 'acme-store.myshopify.com' } }, { shop: 'acme-store' })).toEqual({ shop: 'acme-store' });
    // Informational values may be missing; a value a template needs may not.
    expect(parametersFromAuthorization(entry('slack'), none, {})).toEqual({});
    expect(() => parametersFromAuthorization(entry('quickbooks'), none, {})).toThrow(/did not give Company ID/);
  });

  it('refuses a value that would move a credential, or answers for another tenant than the connection’s', () => {
    expect(() => parametersFromAuthorization(entry('quickbooks'), { tokenResponse: {}, callback: { realmId: '1/../evil' } }, {})).toThrow(/does not accept/);
    expect(() => parametersFromAuthorization(entry('zoho_eu'), { tokenResponse: { api_domain: 'https://www.zohoapis.com' }, callback: {} }, {})).toThrow(/does not accept/);
    expect(() => parametersFromAuthorization(entry('zoho_eu'), { tokenResponse: { api_domain: 'https://evil.example/.zohoapis.eu' }, callback: {} }, {})).toThrow(/does not accept/);
    expect(() => parametersFromAuthorization(entry('salesforce'), { tokenResponse: { instance_url: 'https://evil.example.com' }, callback: {} }, { instance: 'acme' })).toThrow(/does not accept/);
    expect(() => parametersFromAuthorization(entry('salesforce'), { tokenResponse: { instance_url: 'https://other.my.salesforce.com' }, callback: {} }, { instance: 'acme' })).toThrow(/another My Domain name than the connection's \(acme\)/);
    expect(() => parametersFromAuthorization(entry('shopify'), { tokenResponse: {}, callback: { shop: 'other.myshopify.com' } }, { shop: 'acme-store' })).toThrow(/another Shop name/);
  });

  it('validates sources in the schema: one capture group, OAuth 2 only', () => {
    const base = {
      linkName: 'example',
      name: 'Example',
      description: 'An example service.',
      docsUrl: 'https://example.com/docs',
      category: 'developer',
      authType: 'api_key',
      baseUrl: 'https://api.example.com',
      allowedHosts: ['api.example.com'],
      apiKey: { params: [{ name: 'X-API-Key', displayName: 'API key', paramType: 'header' }] },
    };
    const param = (source: object) => ({ connectionParameters: [{ name: 'team', displayName: 'Team', pattern: '^[a-z]+$', example: 'acme', source }] });
    const problems = (value: object) => {
      const result = CatalogEntrySchema.safeParse(value);
      return result.success ? [] : result.error.issues.map((issue) => issue.message);
    };
    expect(problems({ ...base, ...param({ from: 'token_response', field: 'team.id' }) })).toContain('only OAuth 2 authorizations give parameter values');
    expect(problems({ ...base, ...param({ from: 'callback', field: 'team', extract: '^(a)(b)$' }) }).join()).toMatch(/exactly one capture group/);
    expect(problems({ ...base, ...param({ from: 'somewhere', field: 'team' }) })).not.toEqual([]);
  });
});
