import { Endpoints, HTTP_STATUS } from '@plugboard/contracts';
import { buildOpenApiDocument } from './openapi';

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument('test') as { paths: Record<string, Record<string, { responses: Record<string, { description: string }>; requestBody?: unknown; security?: unknown[] }>> };

  it('describes every endpoint of the contracts, with its success and each of its error codes', () => {
    for (const endpoint of Object.values(Endpoints)) {
      const operation = doc.paths[endpoint.path][endpoint.method.toLowerCase()];
      expect(operation).toBeDefined();
      expect(operation.responses[endpoint.success]).toBeDefined();
      for (const code of endpoint.errors) expect(operation.responses[HTTP_STATUS[code]].description).toContain(code);
    }
  });

  it('documents request bodies with their schema and an example, and marks public routes', () => {
    const create = doc.paths['/v1/services'].post;
    expect(create.requestBody).toMatchObject({ content: { 'application/json': { schema: { oneOf: expect.any(Array) }, example: { linkName: 'acme_crm' } } } });
    expect(doc.paths['/health'].get.security).toEqual([]);
  });
});
