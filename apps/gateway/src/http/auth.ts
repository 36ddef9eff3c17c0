import { createParamDecorator, Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeys, roleAllows, type Principal } from '@plugboard/access';
import { DomainError, ErrorCodes, UserIdSchema, type Actor, type Role } from '@plugboard/contracts';

const PUBLIC = 'plugboard:public';
const ROLE = 'plugboard:role';

/** A route anyone may call (health, docs). */
export const Public = () => SetMetadata(PUBLIC, true);
/** The least role a route needs; `read_only` when not said. */
export const RequiresRole = (role: Role) => SetMetadata(ROLE, role);

interface AuthenticatedRequest extends Request {
  principal?: Principal;
  actor?: Actor;
}

/**
 * Every route but the public ones needs `Authorization: Bearer <api key>`. The key fixes the org; the acting user
 * is `X-User-Id` (a product acts for its users), or the key itself when none is given.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const principal = match ? await this.apiKeys.verify(match[1]) : null;
    if (!principal) throw new DomainError(ErrorCodes.unauthenticated, 'Send a valid API key as "Authorization: Bearer <key>".');
    const needed = this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? 'read_only';
    if (!roleAllows(principal.role, needed)) throw new DomainError(ErrorCodes.forbidden, `This needs the ${needed} role; your key has the ${principal.role} role.`);
    const userHeader = request.headers['x-user-id'];
    const userId = typeof userHeader === 'string' && userHeader !== '' ? userHeader : `key:${principal.keyId}`;
    if (!UserIdSchema.safeParse(userId).success) throw new DomainError(ErrorCodes.validationFailed, 'X-User-Id must be 1–128 letters, digits or . _ @ + -.');
    request.principal = principal;
    request.actor = { orgId: principal.orgId, userId };
    return true;
  }
}

/** The org and user a request acts for, as the guard established them. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});
