import { z } from 'zod';
import { RoleSchema, UserIdSchema, type Role } from '../identifiers';

/**
 * An admin creates keys for their own org, each bound to its subject:
 * - a person's key (`user`) acts as that user only: an `X-User-Id` naming anyone else is `403 user_mismatch`;
 * - a product's key (`actAs: "any"`, for the suite's backends) may name the user it acts for with `X-User-Id`.
 * Exactly one of the two is given.
 */
export const CreateApiKeyInputSchema = z
  .strictObject({
    role: RoleSchema,
    /** The person this key is: every request with it acts as this user. */
    user: UserIdSchema.optional(),
    /** A product's key: it acts for whichever user its `X-User-Id` names. */
    actAs: z.literal('any', { error: 'must be "any" (a product key); give user instead for a person’s key' }).optional(),
    /** Whom or what the key is for, to recognise it in a list. */
    label: z.string().trim().min(1, 'must not be empty').max(100, 'must be 100 characters or fewer').optional(),
  })
  .superRefine((input, context) => {
    if ((input.user === undefined) === (input.actAs === undefined)) {
      context.addIssue({ code: 'custom', path: ['user'], message: 'give either user (a person’s key) or actAs: "any" (a product’s key), not both or neither' });
    }
  });
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInputSchema>;

/** A key as it can be read back: never the key, only its first characters. */
export interface ApiKeyView {
  id: string;
  role: Role;
  /** The person a person's key acts as; null for a product's key. */
  user: string | null;
  /** "any" for a product's key (it names its user with X-User-Id), null for a person's key. */
  actAs: 'any' | null;
  /** `pb_` and the key's next six characters, enough to tell keys apart. */
  prefix: string;
  label: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** The answer to creating a key: the only time the key itself is shown. */
export interface CreatedApiKey {
  apiKey: ApiKeyView;
  key: string;
}
