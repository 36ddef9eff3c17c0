import {
  assertNever,
  DomainError,
  ErrorCodes,
  type CreateServiceInput,
  type Decider,
  type ServiceCreated,
  type ServiceEvent,
} from '@plugboard/contracts';

export type ServiceState =
  | { status: 'absent' }
  | { status: 'active'; service: ServiceCreated['data'] }
  | { status: 'deleted' };

export type CreateService = {
  type: 'CreateService';
  data: {
    orgId: string;
    owner: string;
    input: CreateServiceInput;
    /** Vault entry that will hold the client or consumer secret, for OAuth services. */
    secretRef: string | null;
    now: string;
  };
};

export type ServiceCommand = CreateService;

function hostOf(url: string | undefined): string[] {
  return url ? [new URL(url).host.toLowerCase()] : [];
}

function create(command: CreateService, state: ServiceState): ServiceEvent[] {
  const { input, orgId, owner, secretRef, now } = command.data;
  if (state.status === 'active') {
    throw new DomainError(ErrorCodes.linkNameTaken, `A service with link name "${input.linkName}" already exists in this organization. Choose another link name.`);
  }
  const base = {
    orgId,
    linkName: input.linkName,
    name: input.name,
    authType: input.authType,
    baseUrl: input.baseUrl ?? null,
    allowedHosts: input.allowedHosts ?? hostOf(input.baseUrl),
    owner,
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
      const { clientSecret: _secret, ...oauth2 } = input.oauth2;
      return [
        {
          type: 'ServiceCreated',
          data: {
            ...base,
            oauth2: { ...oauth2, authorizeUrl: oauth2.authorizeUrl ?? null, refreshTokenUrl: oauth2.refreshTokenUrl ?? null, clientSecretRef: requireRef() },
          },
        },
      ];
    }
    default:
      return assertNever(input);
  }
}

/** The rules of one custom service's life. Pure: no I/O, time and ids arrive with the command. */
export const serviceDecider: Decider<ServiceCommand, ServiceEvent, ServiceState> = {
  initialState: () => ({ status: 'absent' }),
  decide(command, state) {
    switch (command.type) {
      case 'CreateService':
        return create(command, state);
      default:
        return assertNever(command.type);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ServiceCreated':
        return { status: 'active', service: event.data };
      default:
        return assertNever(event.type);
    }
  },
};
