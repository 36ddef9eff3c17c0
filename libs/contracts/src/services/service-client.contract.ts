import { z } from 'zod';
import { ActorSchema } from '../identifiers';

/**
 * An org's own OAuth app for a predefined service (`PUT/DELETE /v1/services/{linkName}/client`): its client id, and
 * its secret in the vault. Without one, the deployment's PLUGBOARD_PREDEFINED_CLIENTS registration is used.
 */
export const SetServiceClientInputSchema = z.strictObject({
  clientId: z.string().min(1, 'must not be empty').max(512),
  clientSecret: z.string().min(1, 'must not be empty').max(4096),
});
export type SetServiceClientInput = z.infer<typeof SetServiceClientInputSchema>;

export const SetServiceClientRequestSchema = z.strictObject({ actor: ActorSchema, linkName: z.string().max(200), client: SetServiceClientInputSchema });
export type SetServiceClientRequest = z.infer<typeof SetServiceClientRequestSchema>;
export const RemoveServiceClientRequestSchema = z.strictObject({ actor: ActorSchema, linkName: z.string().max(200) });
export type RemoveServiceClientRequest = z.infer<typeof RemoveServiceClientRequestSchema>;

/**
 * The OAuth client a predefined service uses in an org, as reads show it: the org's own (client id, secret masked),
 * the deployment's (nothing of it shown), or none.
 */
export interface ServiceClientView {
  source: 'organization' | 'deployment' | 'none';
  clientId: string | null;
  /** `********` when the org's own secret is set; never the value. */
  clientSecret: string | null;
  updatedAt: string | null;
}

/** Events of a `service-<orgId>.<linkName>.client` stream: the org's own OAuth app for a predefined service. */
export type ServiceClientSet = {
  type: 'ServiceClientSet';
  data: { orgId: string; linkName: string; clientId: string; clientSecretRef: string; setBy: string; setAt: string };
};
export type ServiceClientRemoved = {
  type: 'ServiceClientRemoved';
  data: { orgId: string; linkName: string; clientSecretRef: string; removedBy: string; removedAt: string };
};
export type ServiceClientEvent = ServiceClientSet | ServiceClientRemoved;

/**
 * In the `service` category (so whatever follows a service's changes, like the invoke proxy's cache, sees it), and
 * never a custom service's stream: a link name holds no dot.
 */
export function serviceClientStreamId(orgId: string, linkName: string): string {
  return `service-${orgId}.${linkName}.client`;
}
