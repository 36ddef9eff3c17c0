import { createParamDecorator, Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { actingUser, ApiKeys, authenticate, roleAllows, type Principal } from '@plugboard/access';
import { DomainError, ErrorCodes, type Actor, type Role } from '@plugboard/contracts';
import { CONSOLE_SESSIONS, type ConsoleSessions } from '../session/console-sessions';

const PUBLIC = 'plugboard:public';
const ROLE = 'plugboard:role';

/** A route anyone may call (health, docs). */
export const Public = () => SetMetadata(PUBLIC, true);
/** The least role a route needs; `read_only` when not said. */
export const RequiresRole = (role: Role) => SetMetadata(ROLE, role);

interface AuthenticatedRequest extends Request {
  /** The API key's principal; absent for a console session. */
  principal?: Principal;
  actor?: Actor;
}

/**
 * Every route but the public ones needs an API key (see `authenticate`) or, from a browser, a console session.
 * An Authorization header always wins: a program that sends a bad key gets 401, whatever cookie it holds. A session
 * acts as its person only, and what it changes must come from a page of this Plugboard (`checkSameOrigin`).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const needed = this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? 'read_only';
    let actor: Actor;
    if (request.headers.authorization || !this.sessions) {
      const authenticated = await authenticate(this.apiKeys, request.headers, needed);
      request.principal = authenticated.principal;
      actor = authenticated.actor;
    } else {
      actor = await sessionActor(this.sessions, request, context.switchToHttp().getResponse<Response>(), needed);
    }
    // pino-http gave the request its id (X-Request-Id or a new one): it follows the command into its events.
    request.actor = { ...actor, correlationId: String((request as { id?: unknown }).id ?? '') || undefined };
    return true;
  }
}

/** The actor of a request that carries a console session (and no API key), or why it may not go on. */
export async function sessionActor(sessions: ConsoleSessions, request: Request, response: Response, needed: Role): Promise<Actor> {
  const signedIn = await sessions.person(request, response);
  if (!signedIn) throw new DomainError(ErrorCodes.unauthenticated, 'Send a valid API key as "Authorization: Bearer <key>", or sign in to the console at /console.');
  const { person } = signedIn;
  if (!roleAllows(person.role, needed)) throw new DomainError(ErrorCodes.forbidden, `This needs the ${needed} role; you have the ${person.role} role.`);
  sessions.checkSameOrigin(request);
  return { orgId: person.orgId, userId: actingUser(person.userId, request.headers['x-user-id'], person.userId) };
}

/** The org and user a request acts for, as the guard established them. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor => {
  const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a public route');
  return actor;
});

/** The API key's principal (null for a console session), as the guard established it. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal | null => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().principal ?? null;
});
