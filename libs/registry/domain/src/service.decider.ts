import {
  assertNever,
  DomainError,
  ErrorCodes,
  invalidField,
  type CreateServiceInput,
  type Decider,
  type EditServiceInput,
  type ServiceDefinition,
  type ServiceEdited,
  type ServiceEvent,
} from '@plugboard/contracts';

export type ServiceState = { status: 'absent' } | { status: 'active'; service: ServiceDefinition } | { status: 'deleted' };

export type CreateService = {
  type: 'CreateService';
  data: {
    orgId: string;
    owner: string;
    input: CreateServiceInput;
    /** Vault entry that will hold the client or consumer secret, for OAuth services. */
    secretRef: string | null;
    /** The predefined service that already uses this link name, if any. */
    predefinedName: string | null;
    now: string;
  };
};

export type EditService = {
  type: 'EditService';
  data: {
    orgId: string;
    userId: string;
    linkName: string;
    changes: EditServiceInput;
    /** Vault entry holding the new client or consumer secret, when the edit brings one that differs. */
    secretRef: string | null;
    now: string;
  };
};

export type DeleteService = {
  type: 'DeleteService';
  data: { orgId: string; userId: string; linkName: string; connectionCount: number; now: string };
};

export type ServiceCommand = CreateService | EditService | DeleteService;

function hostOf(url: string | undefined | null): string[] {
  return url ? [new URL(url).host.toLowerCase()] : [];
}

function notFound(linkName: string): DomainError {
  return new DomainError(ErrorCodes.serviceNotFound, `No service with link name "${linkName}" exists in this organization.`);
}

function notEditable(field: string, rule: string): DomainError {
  return new DomainError(ErrorCodes.fieldNotEditable, `${field} cannot be changed: ${rule}`, [{ path: field, message: rule }]);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A parameter map in name order, so that the order they were sent in is not a change. */
function sorted(params: Record<string, string>): [string, string][] {
  return Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function create(command: CreateService, state: ServiceState): ServiceEvent[] {
  const { input, orgId, owner, secretRef, predefinedName, now } = command.data;
  if (predefinedName) {
    throw new DomainError(ErrorCodes.linkNameTaken, `"${input.linkName}" is the link name of the predefined service ${predefinedName}. Choose another link name.`);
  }
  if (state.status === 'active') {
    throw new DomainError(ErrorCodes.linkNameTaken, `A service with link name "${input.linkName}" already exists in this organization. Choose another link name.`);
  }
  if (input.verify && !input.baseUrl) throw invalidField('verify', 'the verification path is relative to baseUrl, which the service does not have');
  const base = {
    orgId,
    linkName: input.linkName,
    name: input.name,
    authType: input.authType,
    baseUrl: input.baseUrl ?? null,
    allowedHosts: input.allowedHosts ?? hostOf(input.baseUrl),
    owner,
    ...(input.verify ? { verify: input.verify } : {}),
    createdAt: now,
  };
  const requireRef = (): string => {
    if (!secretRef) throw new Error('an OAuth service needs a vault entry for its secret');
    return secretRef;
  };
  switch (input.authType) {
    case 'api_key':
      return [{ type: 'ServiceCreated', data: { ...base, apiKey: { params: input.apiKey.params } } }];
    case 'basic':
      return [{ type: 'ServiceCreated', data: base }];
    case 'oauth1': {
      const { consumerSecret: _secret, ...oauth1 } = input.oauth1;
      return [{ type: 'ServiceCreated', data: { ...base, oauth1: { ...oauth1, consumerSecretRef: requireRef() } } }];
    }
    case 'oauth2': {
      const { clientSecret: _secret, extraAuthorizeParams, extraTokenParams, ...oauth2 } = input.oauth2;
      // Recorded only when given, so a service without them reads as it did before they existed.
      const extras = {
        ...(extraAuthorizeParams && Object.keys(extraAuthorizeParams).length > 0 ? { extraAuthorizeParams } : {}),
        ...(extraTokenParams && Object.keys(extraTokenParams).length > 0 ? { extraTokenParams } : {}),
      };
      return [
        {
          type: 'ServiceCreated',
          data: {
            ...base,
            oauth2: {
              ...oauth2,
              authorizeUrl: oauth2.authorizeUrl ?? null,
              refreshTokenUrl: oauth2.refreshTokenUrl ?? null,
              revokeUrl: oauth2.revokeUrl ?? null,
              ...extras,
              clientSecretRef: requireRef(),
            },
          },
        },
      ];
    }
    default:
      return assertNever(input);
  }
}

/** The edit rules of seed 004's table, per auth type. Throws field_not_editable naming the field and the rule. */
function checkEditable(service: ServiceDefinition, changes: EditServiceInput): void {
  if (changes.linkName !== undefined && changes.linkName !== service.linkName) throw notEditable('linkName', 'a link name is fixed when the service is created.');
  if (changes.authType !== undefined && changes.authType !== service.authType) throw notEditable('authType', 'the authentication type is fixed when the service is created.');
  const verify = changes.verify === undefined ? service.verify : changes.verify;
  const baseUrl = changes.baseUrl === undefined ? service.baseUrl : changes.baseUrl;
  if (verify && !baseUrl) throw invalidField('verify', 'the verification path is relative to baseUrl, which the service would not have');
  for (const block of ['apiKey', 'oauth1', 'oauth2'] as const) {
    const owns = { apiKey: 'api_key', oauth1: 'oauth1', oauth2: 'oauth2' }[block] === service.authType;
    if (changes[block] !== undefined && !owns) throw notEditable(block, `it does not apply to a service whose authentication type is ${service.authType}.`);
  }
  if (changes.apiKey && service.apiKey) {
    const kept = new Set(changes.apiKey.params.map((p) => p.name));
    const removed = service.apiKey.params.filter((p) => !kept.has(p.name)).map((p) => p.name);
    if (removed.length > 0) throw notEditable('apiKey.params', `parameters can be added and edited but not removed (missing: ${removed.join(', ')}).`);
  }
  if (changes.oauth2 && service.oauth2) {
    const { grantType, scopeDelimiter, scopes } = changes.oauth2;
    if (grantType !== undefined && grantType !== service.oauth2.grantType) throw notEditable('oauth2.grantType', 'the grant type is fixed when the service is created.');
    if (scopeDelimiter !== undefined && scopeDelimiter !== service.oauth2.scopeDelimiter) throw notEditable('oauth2.scopeDelimiter', 'the scope delimiter is fixed when the service is created.');
    if (scopes) {
      const next = new Map(scopes.map((s) => [s.name, s.displayName]));
      for (const scope of service.oauth2.scopes) {
        if (!next.has(scope.name)) throw notEditable('oauth2.scopes', `scopes can be added but not removed (missing: ${scope.name}).`);
        if (next.get(scope.name) !== scope.displayName) throw notEditable('oauth2.scopes', `scopes can be added but not edited (${scope.name}).`);
      }
    }
  }
}

/** What the edit really changes, as the event records it: new non-secret values and, for a secret, its new reference. */
function diff(service: ServiceDefinition, changes: EditServiceInput, secretRef: string | null): Pick<ServiceEdited['data'], 'changedFields' | 'changes'> {
  const changedFields: string[] = [];
  const out: ServiceEdited['data']['changes'] = {};
  if (changes.name !== undefined && changes.name !== service.name) {
    out.name = changes.name;
    changedFields.push('name');
  }
  if (changes.baseUrl !== undefined && changes.baseUrl !== service.baseUrl) {
    out.baseUrl = changes.baseUrl;
    changedFields.push('baseUrl');
  }
  if (changes.allowedHosts !== undefined && !same(changes.allowedHosts, service.allowedHosts)) {
    out.allowedHosts = changes.allowedHosts;
    changedFields.push('allowedHosts');
  }
  if (changes.verify !== undefined && !same(changes.verify, service.verify ?? null)) {
    out.verify = changes.verify;
    changedFields.push('verify');
  }
  if (changes.apiKey && !same(changes.apiKey.params, service.apiKey?.params)) {
    out.apiKey = { params: changes.apiKey.params };
    changedFields.push('apiKey.params');
  }
  if (changes.oauth1 && service.oauth1) {
    const { consumerSecret, ...rest } = changes.oauth1;
    const oauth1: NonNullable<typeof out.oauth1> = {};
    for (const [key, value] of Object.entries(rest) as [keyof typeof rest, string][]) {
      if (value !== undefined && value !== service.oauth1[key]) {
        Object.assign(oauth1, { [key]: value });
        changedFields.push(`oauth1.${key}`);
      }
    }
    if (consumerSecret !== undefined && secretRef) {
      oauth1.consumerSecretRef = secretRef;
      changedFields.push('oauth1.consumerSecret');
    }
    if (Object.keys(oauth1).length > 0) out.oauth1 = oauth1;
  }
  if (changes.oauth2 && service.oauth2) {
    const { clientSecret, grantType: _g, scopeDelimiter: _d, scopes, extraAuthorizeParams, extraTokenParams, ...rest } = changes.oauth2;
    const oauth2: NonNullable<typeof out.oauth2> = {};
    // Like the URLs, extra parameters change what a provider grants: an edit is recorded (and revokes), a resend is not.
    const extras = { extraAuthorizeParams, extraTokenParams };
    for (const [key, value] of Object.entries(extras) as [keyof typeof extras, Record<string, string> | undefined][]) {
      if (value !== undefined && !same(sorted(value), sorted(service.oauth2[key] ?? {}))) {
        oauth2[key] = value;
        changedFields.push(`oauth2.${key}`);
      }
    }
    for (const [key, value] of Object.entries(rest) as [keyof typeof rest, string][]) {
      if (value !== undefined && value !== service.oauth2[key]) {
        Object.assign(oauth2, { [key]: value });
        changedFields.push(`oauth2.${key}`);
      }
    }
    if (scopes && !same(scopes, service.oauth2.scopes)) {
      oauth2.scopes = scopes;
      changedFields.push('oauth2.scopes');
    }
    if (clientSecret !== undefined && secretRef) {
      oauth2.clientSecretRef = secretRef;
      changedFields.push('oauth2.clientSecret');
    }
    if (Object.keys(oauth2).length > 0) out.oauth2 = oauth2;
  }
  return { changedFields, changes: out };
}

function edit(command: EditService, state: ServiceState): ServiceEvent[] {
  const { orgId, userId, linkName, changes, secretRef, now } = command.data;
  if (state.status !== 'active') throw notFound(linkName);
  if (state.service.owner !== userId) throw new DomainError(ErrorCodes.notOwner, `Only the owner of this service (${state.service.owner}) may edit it.`);
  checkEditable(state.service, changes);
  const { changedFields, changes: recorded } = diff(state.service, changes, secretRef);
  if (changedFields.length === 0) return [];
  return [{ type: 'ServiceEdited', data: { orgId, linkName, changedFields, changes: recorded, editedBy: userId, editedAt: now } }];
}

function remove(command: DeleteService, state: ServiceState): ServiceEvent[] {
  const { orgId, userId, linkName, connectionCount, now } = command.data;
  if (state.status !== 'active') throw notFound(linkName);
  if (state.service.owner !== userId) throw new DomainError(ErrorCodes.notOwner, `Only the owner of this service (${state.service.owner}) may delete it.`);
  if (connectionCount > 0) {
    throw new DomainError(ErrorCodes.serviceInUse, `This service still has ${connectionCount} connection${connectionCount === 1 ? '' : 's'}. Delete them first.`);
  }
  return [{ type: 'ServiceDeleted', data: { orgId, linkName, deletedBy: userId, deletedAt: now } }];
}

/** Folds an edit into the definition (also used by the read model, so both agree on what an edit means). */
export function applyServiceEdit(service: ServiceDefinition, changes: ServiceEdited['data']['changes']): ServiceDefinition {
  const { oauth1, oauth2, ...top } = changes;
  return {
    ...service,
    ...top,
    ...(oauth1 && service.oauth1 ? { oauth1: { ...service.oauth1, ...oauth1 } } : {}),
    ...(oauth2 && service.oauth2 ? { oauth2: { ...service.oauth2, ...oauth2 } } : {}),
  };
}

/** The rules of one custom service's life. Pure: no I/O, time and ids arrive with the command. */
export const serviceDecider: Decider<ServiceCommand, ServiceEvent, ServiceState> = {
  initialState: () => ({ status: 'absent' }),
  decide(command, state) {
    switch (command.type) {
      case 'CreateService':
        return create(command, state);
      case 'EditService':
        return edit(command, state);
      case 'DeleteService':
        return remove(command, state);
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ServiceCreated':
        return { status: 'active', service: event.data };
      case 'ServiceEdited':
        return state.status === 'active' ? { status: 'active', service: applyServiceEdit(state.service, event.data.changes) } : state;
      case 'ServiceDeleted':
        return { status: 'deleted' };
      default:
        return assertNever(event);
    }
  },
};
