import { z } from 'zod';
import { LINK_NAME_PATTERN } from './link-names';

/** Link names identify services and connections in an org and never change. */
export const LinkNameSchema = z
  .string()
  .regex(LINK_NAME_PATTERN, 'must start with a lowercase letter and hold only lowercase letters, digits and underscores, 50 characters at most');

export const DisplayNameSchema = z.string().trim().min(1, 'must not be empty').max(50, 'must be 50 characters or fewer');

/** Org and user ids are supplied by the calling product; they only need to be safe inside stream ids and logs. */
export const OrgIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 letters, digits, dots, dashes or underscores');
export const UserIdSchema = z.string().regex(/^[A-Za-z0-9_.@+-]{1,128}$/, 'must be 1–128 letters, digits or . _ @ + -');

export const RoleSchema = z.enum(['admin', 'member', 'read_only']);
export type Role = z.infer<typeof RoleSchema>;

/** The id that follows one request from the gateway, over the bus, into the metadata of the events it caused. */
export const CorrelationIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/);

/** Who asks: every command and query is scoped to one org and made by one user. */
export const ActorSchema = z.object({
  orgId: OrgIdSchema,
  userId: UserIdSchema,
  correlationId: CorrelationIdSchema.optional(),
  /** A product's key acts for this user (it may name any user); absent for a person's key or console session. */
  byProduct: z.literal(true).optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** Who the log names as acting when a rule rather than a person does (a refresh, a revocation it causes). */
export const SYSTEM_ACTOR = 'plugboard';

/** The metadata of events an actor's command records. */
export function actorMetadata(actor: Actor): { orgId: string; userId: string; correlationId?: string } {
  return { orgId: actor.orgId, userId: actor.userId, ...(actor.correlationId ? { correlationId: actor.correlationId } : {}) };
}
