import { createParamDecorator, Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeys, authenticate, type Principal } from '@plugboard/access';
import type { Actor, Role } from '@plugboard/contracts';

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

/** Every route but the public ones needs an API key (see `authenticate`). */
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
    const { principal, actor } = await authenticate(this.apiKeys, request.headers, this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? 'read_only');
    request.principal = principal;
    // pino-http gave the request its id (X-Request-Id or a new one): it follows the command into its events.
    request.actor = { ...actor, correlationId: String((request as { id?: unknown }).id ?? '') || undefined };
    return true;
  }
}

/** The org and user a request acts for, as the guard established them. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});
