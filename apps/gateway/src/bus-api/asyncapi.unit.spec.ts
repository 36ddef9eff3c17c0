import { Parser } from '@asyncapi/parser';
import { BusApiOperations, IntegrationEventTypes } from '@plugboard/contracts';
import { buildAsyncApiDocument } from './asyncapi';

describe('the AsyncAPI document (/docs/asyncapi.json)', () => {
  const document = buildAsyncApiDocument('1.2.3', 'plugboard');

  it('is a valid AsyncAPI 3 document', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    // Severity 0 is an error; warnings (1) and hints are style advice.
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(parsed?.version()).toBe('3.0.0');
  });

  it('covers every bus API operation and every event subject, with their stream', () => {
    const addresses = Object.values(document.channels).map((channel) => channel.address);
    for (const operation of Object.keys(BusApiOperations)) expect(addresses).toContain(`plugboard.api.${operation}`);
    for (const type of Object.keys(IntegrationEventTypes)) expect(addresses).toContain(`plugboard.events.${type}`);
    expect(document.channels.events_ConnectionRevoked.description).toContain('PLUGBOARD_EVENTS');
  });

  it('documents a request as the REST body with its path parameters as fields, and the error codes of its reply', () => {
    const request = document.components.messages.connections_authorize_request as { payload: { properties?: Record<string, unknown>; allOf?: unknown[] }; headers: { required: string[] } };
    expect(JSON.stringify(request.payload)).toContain('"linkName"');
    expect(request.headers.required).toEqual(['Authorization']);
    const reply = JSON.stringify(document.components.messages.connections_authorize_reply);
    for (const code of ['unauthenticated', 'user_mismatch', 'credential_rejected', 'invalid_characters', 'connection_not_found']) expect(reply).toContain(`"${code}"`);
  });
});
