import { z } from 'zod';
import { RoleSchema, type Role } from '../identifiers';

/** An admin creates keys for their own org: programs and people each get one, with the least role they need. */
export const CreateApiKeyInputSchema = z.strictObject({
  role: RoleSchema,
  /** Whom or what the key is for, to recognise it in a list. */
  label: z.string().trim().min(1, 'must not be empty').max(100, 'must be 100 characters or fewer').optional(),
});
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInputSchema>;

/** A key as it can be read back: never the key, only its first characters. */
export interface ApiKeyView {
  id: string;
  role: Role;
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
