import type { z } from 'zod';
import type { ErrorCode } from '../errors';
import { CreateServiceInputSchema } from '../services/service.contract';

/** One REST route, described once: the gateway serves it and documents it from this, and SDKs can type it. */
export interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  bodyExample?: unknown;
  success: number;
  /** Which response schema (in the OpenAPI components) a success returns. */
  returns?: 'Service' | 'Health';
  errors: ErrorCode[];
  public?: boolean;
}

const authErrors: ErrorCode[] = ['unauthenticated', 'forbidden'];

export const Endpoints = {
  health: {
    method: 'GET',
    path: '/health',
    summary: 'Is the gateway up, and can it reach the database and every app over the bus?',
    tag: 'operations',
    success: 200,
    returns: 'Health',
    errors: ['unavailable'],
    public: true,
  },
  createService: {
    method: 'POST',
    path: '/v1/services',
    summary: 'Create a custom service in your org. You become its owner; everyone in the org can use it.',
    tag: 'services',
    body: CreateServiceInputSchema,
    bodyExample: {
      name: 'Acme CRM',
      linkName: 'acme_crm',
      authType: 'api_key',
      baseUrl: 'https://api.acme.example',
      apiKey: { params: [{ name: 'api_key', displayName: 'API key', paramType: 'header' }] },
    },
    success: 201,
    returns: 'Service',
    errors: ['validation_failed', 'malformed_json', 'link_name_taken', ...authErrors],
  },
  getService: {
    method: 'GET',
    path: '/v1/services/{linkName}',
    summary: 'Read one service of your org by its link name. Secrets are shown masked.',
    tag: 'services',
    success: 200,
    returns: 'Service',
    errors: ['service_not_found', ...authErrors],
  },
} satisfies Record<string, Endpoint>;
