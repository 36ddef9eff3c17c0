import type { ServiceClientEvent } from '@plugboard/contracts';
import { deciderSpec } from '@plugboard/testing';
import { serviceClientDecider, type RemoveServiceClient, type SetServiceClient } from './service-client.decider';

const spec = deciderSpec(serviceClientDecider);
const now = '2026-11-30T10:00:00.000Z';
const github = { name: 'GitHub', authType: 'oauth2' as const };

function setCommand(clientId: string, secretRef: string | null, service = github): SetServiceClient {
  return { type: 'SetServiceClient', data: { orgId: 'acme', userId: 'alice', linkName: 'github', service, clientId, secretRef, now } };
}
const removeCommand: RemoveServiceClient = { type: 'RemoveServiceClient', data: { orgId: 'acme', userId: 'alice', linkName: 'github', now } };
const setEvent = (clientId: string, clientSecretRef: string): ServiceClientEvent => ({ type: 'ServiceClientSet', data: { orgId: 'acme', linkName: 'github', clientId, clientSecretRef, setBy: 'alice', setAt: now } });

describe('an org’s own OAuth app for a predefined service', () => {
  it('registers one with a reference to its secret, never the secret', () => {
    spec.given([]).when(setCommand('Iv1.abc', 'ref-1')).then([setEvent('Iv1.abc', 'ref-1')]);
  });

  it('replaces it when the client id or the secret changes, and records nothing when neither does', () => {
    spec.given([setEvent('Iv1.abc', 'ref-1')]).when(setCommand('Iv1.def', 'ref-2')).then([setEvent('Iv1.def', 'ref-2')]);
    spec.given([setEvent('Iv1.abc', 'ref-1')]).when(setCommand('Iv1.abc', 'ref-2')).then([setEvent('Iv1.abc', 'ref-2')]);
    spec.given([setEvent('Iv1.abc', 'ref-1')]).when(setCommand('Iv1.abc', null)).then([]);
  });

  it('refuses a service that does not use OAuth', () => {
    spec.given([]).when(setCommand('x', 'ref-1', { name: 'Stripe', authType: 'api_key' } as never)).thenFails({ code: 'validation_failed', message: /Stripe does not authorize with OAuth/ });
  });

  it('removes it, naming the secret to erase; removing none is service_client_not_found', () => {
    spec.given([setEvent('Iv1.abc', 'ref-1')]).when(removeCommand).then([{ type: 'ServiceClientRemoved', data: { orgId: 'acme', linkName: 'github', clientSecretRef: 'ref-1', removedBy: 'alice', removedAt: now } }]);
    spec.given([setEvent('Iv1.abc', 'ref-1'), { type: 'ServiceClientRemoved', data: { orgId: 'acme', linkName: 'github', clientSecretRef: 'ref-1', removedBy: 'alice', removedAt: now } }]).when(removeCommand).thenFails({ code: 'service_client_not_found' });
  });
});
