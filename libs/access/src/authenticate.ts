import { DomainError, ErrorCodes, UserIdSchema, type Actor, type Role } from '@plugboard/contracts';
import { roleAllows, type ApiKeys, type Principal } from './api-keys';

/** The request headers authentication reads, as Node gives them. */
export interface CredentialsHeaders {
  authorization?: string;
  'x-user-id'?: string | string[];
}

/**
 * Who a request speaks for: `Authorization: Bearer <api key>` fixes the org and the role; the acting user is
 * `X-User-Id` (a product acts for its users), or the key itself when none is given.
 */
export async function authenticate(apiKeys: ApiKeys, headers: CredentialsHeaders, needed: Role): Promise<{ principal: Principal; actor: Actor }> {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  const principal = match ? await apiKeys.verify(match[1]) : null;
  if (!principal) throw new DomainError(ErrorCodes.unauthenticated, 'Send a valid API key as "Authorization: Bearer <key>".');
  if (!roleAllows(principal.role, needed)) throw new DomainError(ErrorCodes.forbidden, `This needs the ${needed} role; your key has the ${principal.role} role.`);
  const userHeader = headers['x-user-id'];
  const userId = typeof userHeader === 'string' && userHeader !== '' ? userHeader : `key.${principal.keyId}`;
  if (!UserIdSchema.safeParse(userId).success) throw new DomainError(ErrorCodes.validationFailed, 'X-User-Id must be 1–128 letters, digits or . _ @ + -.');
  return { principal, actor: { orgId: principal.orgId, userId } };
}
