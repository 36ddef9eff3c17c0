import {
  assertNever,
  DomainError,
  ErrorCodes,
  invalidField,
  type Decider,
  type ServiceClientEvent,
} from '@plugboard/contracts';

/** The org's own OAuth app for one predefined service, if it registered one. */
export type ServiceClientState = { client: { clientId: string; clientSecretRef: string; updatedAt: string } | null };

/** What the command needs to know of the predefined service: its name, and whether it authorizes with OAuth. */
export interface PredefinedFacts {
  name: string;
  authType: 'api_key' | 'basic' | 'oauth1' | 'oauth2';
}

export type SetServiceClient = {
  type: 'SetServiceClient';
  data: {
    orgId: string;
    userId: string;
    linkName: string;
    service: PredefinedFacts;
    clientId: string;
    /** The vault entry of a new secret; null when the secret sent is the one already stored. */
    secretRef: string | null;
    now: string;
  };
};
export type RemoveServiceClient = { type: 'RemoveServiceClient'; data: { orgId: string; userId: string; linkName: string; now: string } };
export type ServiceClientCommand = SetServiceClient | RemoveServiceClient;

function set(command: SetServiceClient, state: ServiceClientState): ServiceClientEvent[] {
  const { orgId, userId, linkName, service, clientId, secretRef, now } = command.data;
  if (service.authType !== 'oauth1' && service.authType !== 'oauth2') {
    throw invalidField('linkName', `${service.name} does not authorize with OAuth, so it has no OAuth app to register`);
  }
  if (state.client && state.client.clientId === clientId && secretRef === null) return [];
  if (secretRef === null) throw new Error('a new or changed OAuth app needs a vault entry for its secret');
  return [{ type: 'ServiceClientSet', data: { orgId, linkName, clientId, clientSecretRef: secretRef, setBy: userId, setAt: now } }];
}

function remove(command: RemoveServiceClient, state: ServiceClientState): ServiceClientEvent[] {
  const { orgId, userId, linkName, now } = command.data;
  if (!state.client) throw new DomainError(ErrorCodes.serviceClientNotFound, `This organization has no OAuth app of its own registered for "${linkName}".`);
  return [{ type: 'ServiceClientRemoved', data: { orgId, linkName, clientSecretRef: state.client.clientSecretRef, removedBy: userId, removedAt: now } }];
}

/** The rules of an org's own OAuth app for a predefined service: set (or replace) it, remove it. Pure. */
export const serviceClientDecider: Decider<ServiceClientCommand, ServiceClientEvent, ServiceClientState> = {
  initialState: () => ({ client: null }),
  decide(command, state) {
    switch (command.type) {
      case 'SetServiceClient':
        return set(command, state);
      case 'RemoveServiceClient':
        return remove(command, state);
      default:
        return assertNever(command);
    }
  },
  evolve(_state, event) {
    switch (event.type) {
      case 'ServiceClientSet':
        return { client: { clientId: event.data.clientId, clientSecretRef: event.data.clientSecretRef, updatedAt: event.data.setAt } };
      case 'ServiceClientRemoved':
        return { client: null };
      default:
        return assertNever(event);
    }
  },
};
