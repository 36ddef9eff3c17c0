import { DomainError, ErrorCodes, UserIdSchema, type Actor, type Role } from '@plugboard/contracts';
import { roleAllows, type ApiKeys, type Principal } from './api-keys';

/** The request headers authentication reads, as Node gives them. */
export interface CredentialsHeaders {
  authorization?: string;
  'x-user-id'?: string | string[];
}

/**
 * The user a request acts as. A subject bound to a person (a person's key, a console session) acts as that person
 * only: an `X-User-Id` naming anyone else is `user_mismatch`, never a silent switch. An unbound one (a product's
 * key) acts for the user its header names, else `fallback`.
 */
export function actingUser(bound: string | null, header: string | string[] | undefined, fallback: string): string {
  // Node joins repeated headers with ", ", which no user id holds: two X-User-Id headers are refused, not picked from.
  const named = Array.isArray(header) ? header.join(', ') : header === undefined || header === '' ? null : header;
  if (named !== null && !UserIdSchema.safeParse(named).success) throw new DomainError(ErrorCodes.validationFailed, 'X-User-Id must be 1–128 letters, digits or . _ @ + -.');
  if (bound === null) return named ?? fallback;
  if (named !== null && named !== bound) {
    throw new DomainError(ErrorCodes.userMismatch, `You act as "${bound}" only: X-User-Id may not name another user (only a product's key, actAs "any", acts for others).`);
  }
  return bound;
}

/**
 * Who a request speaks for: `Authorization: Bearer <api key>` fixes the org and the role. A person's key acts as
 * its user; a product's key as the user `X-User-Id` names, or as the key itself when none is given.
 */
export async function authenticate(apiKeys: ApiKeys, headers: CredentialsHeaders, needed: Role): Promise<{ principal: Principal; actor: Actor }> {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  const principal = match ? await apiKeys.verify(match[1]) : null;
  if (!principal) throw new DomainError(ErrorCodes.unauthenticated, 'Send a valid API key as "Authorization: Bearer <key>".');
  if (!roleAllows(principal.role, needed)) throw new DomainError(ErrorCodes.forbidden, `This needs the ${needed} role; your key has the ${principal.role} role.`);
  const userId = actingUser(principal.user, headers['x-user-id'], `key.${principal.keyId}`);
  return { principal, actor: { orgId: principal.orgId, userId, ...(principal.user === null ? { byProduct: true } : {}) } };
}
