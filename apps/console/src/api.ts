import type {
  AuthorizeResult,
  ConnectionSnippets,
  ConnectionView,
  ConnectLinkAuthorizeResult,
  ConnectLinkView,
  CreatedConnectLink,
  CreateServiceInput,
  EditServiceInput,
  FieldIssue,
  Page,
  ServiceView,
  SessionView,
  SetServiceClientInput,
} from '@plugboard/contracts';

/** An error answer of the REST API: its stable code, the sentence for a person, and the fields it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** The sentence about one field (`path` as the API names it, e.g. `oauth2.clientId`), if the error names it. */
  about(path: string): string | undefined {
    // Over the bus a field may be named inside its request (`service.oauth1.clientId`): the tail is what the form knows.
    const tail = (detail: string) => detail.replace(/^(service|connection|changes|authorization)\./, '');
    const issue = this.details.find((detail) => tail(detail.path) === path || tail(detail.path).startsWith(`${path}.`));
    return issue?.message;
  }
}

/**
 * Calls the gateway with the session cookie (same origin). The browser adds `Origin` to every write, which is how the
 * gateway tells the console from a cross-site form (cross_site_request).
 */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'Plugboard cannot be reached. Check your network, then try again.');
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page, say: reported below by its status.
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: FieldIssue[] } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? 'unavailable', error?.message ?? `Plugboard answered ${response.status}. Try again in a moment.`, error?.details ?? []);
  }
  return parsed as T;
}

const link = encodeURIComponent;

/** Walks every page of a list. */
async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page: Page<T> = await call<Page<T>>('GET', `${path}${separator}limit=200${cursor ? `&cursor=${link(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export type ConnectionsView = 'own' | 'shared' | 'internal';
export type CreateConnectionBody = { name: string; linkName?: string; service: string; scopes?: string[]; parameters?: Record<string, string>; useLoginUserCredentials: boolean };
export type Credentials = { values?: Record<string, string>; username?: string; password?: string };

export const api = {
  session: () => call<SessionView>('GET', '/v1/session'),
  signInWithLink: (token: string) => call<SessionView>('POST', '/v1/session/sign-in', { token }),
  signOut: () => call<null>('POST', '/v1/session/sign-out'),

  services: (type: 'predefined' | 'custom') => all<ServiceView>(`/v1/services?type=${type}`),
  service: (linkName: string) => call<ServiceView>('GET', `/v1/services/${link(linkName)}`),
  /** The deployment's callback URLs for an OAuth protocol, as any service of that auth type shows them (the same for all). */
  callbackUrls: async (authType: 'oauth1' | 'oauth2') => (await call<Page<ServiceView>>('GET', `/v1/services?authType=${authType}&limit=1`)).items[0]?.callbackUrls ?? [],
  createService: (input: CreateServiceInput) => call<ServiceView>('POST', '/v1/services', input),
  editService: (linkName: string, changes: EditServiceInput) => call<ServiceView>('PATCH', `/v1/services/${link(linkName)}`, changes),
  deleteService: (linkName: string) => call<null>('DELETE', `/v1/services/${link(linkName)}`),
  /** An org's own OAuth app for a predefined service (admins): answers the service, its secret masked. */
  setServiceClient: (linkName: string, client: SetServiceClientInput) => call<ServiceView>('PUT', `/v1/services/${link(linkName)}/client`, client),
  removeServiceClient: (linkName: string) => call<ServiceView>('DELETE', `/v1/services/${link(linkName)}/client`),

  connections: (view: ConnectionsView) => all<ConnectionView>(`/v1/connections?view=${view}`),
  connection: (linkName: string) => call<ConnectionView>('GET', `/v1/connections/${link(linkName)}`),
  createConnection: (body: CreateConnectionBody) => call<ConnectionView>('POST', '/v1/connections', body),
  editConnection: (linkName: string, changes: { name?: string; scopes?: string[] }) => call<ConnectionView>('PATCH', `/v1/connections/${link(linkName)}`, changes),
  authorize: (linkName: string, body: Credentials & { returnUrl?: string }) => call<AuthorizeResult>('POST', `/v1/connections/${link(linkName)}/authorize`, body),
  revoke: (linkName: string) => call<ConnectionView>('POST', `/v1/connections/${link(linkName)}/revoke`, {}),
  deleteConnection: (linkName: string) => call<null>('DELETE', `/v1/connections/${link(linkName)}`),
  snippet: (linkName: string) => call<ConnectionSnippets>('GET', `/v1/connections/${link(linkName)}/snippet`),
  timeline: (linkName: string) => call<{ timeline: { events: TimelineEvent[] } | null }>('GET', `/dashboard/data.json?connection=${link(linkName)}`),

  createConnectLink: (connection: string) => call<CreatedConnectLink>('POST', '/v1/connect-links', { connection }),
  connectLink: (token: string) => call<ConnectLinkView>('GET', `/v1/connect-links/${link(token)}`),
  completeConnectLink: (token: string, body: Credentials) => call<ConnectLinkAuthorizeResult>('POST', `/v1/connect-links/${link(token)}/authorize`, body),
};

/** An event of a connection's stream as the dashboard's data shows it (no secret is ever in one). */
export interface TimelineEvent {
  type: string;
  recordedAt: string;
  data: Record<string, unknown>;
}
