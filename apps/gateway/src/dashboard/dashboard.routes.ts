import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeys, authenticate } from '@plugboard/access';
import { DomainError, ErrorCodes, LinkNameSchema } from '@plugboard/contracts';
import { Public } from '../http/auth';
import { dashboardPage, messagePage, type Viewer } from './dashboard.page';
import { DashboardQueries, type DashboardData } from './dashboard.queries';
import { CONSOLE_SESSIONS, ConsoleSessions } from '../session/console-sessions';
import { OperatorSignIn } from './operator-sign-in';

export const DASHBOARD_SIGN_IN = Symbol('DASHBOARD_SIGN_IN');

// Pages hold org data: never cached, never framed, no script at all, forms only to this origin.
function pageHeaders(res: Response): void {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
}

/** Only paths of the dashboard and the console are places to return to after signing in (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?:dashboard|console)(?:[/?#]|$)/.test(next) && !next.includes('\\') ? next : '/dashboard';
}

/**
 * The read-only ops dashboard. It authenticates on its own (hence `Public` for the API key guard): an
 * `Authorization: Bearer <api key>` header for programs, else the session of an operator who signed in through the
 * identity provider; either way the org is the viewer's and nothing else is shown. Every role may read it; the
 * webhook delivery log is shown to admins only, as on `GET /v1/webhook/deliveries`.
 */
@Controller('dashboard')
@Public()
export class DashboardRoutes {
  constructor(
    private readonly queries: DashboardQueries,
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(DASHBOARD_SIGN_IN) private readonly signIn: OperatorSignIn | null,
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions | null,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response, @Query('connection') connection?: unknown): Promise<void> {
    pageHeaders(res);
    const viewer = await this.viewer(req, res);
    if (!viewer) {
      if (this.signIn) return res.redirect(302, `/dashboard/login?next=${encodeURIComponent(req.originalUrl)}`);
      // Without an identity provider, people sign in to the console (embedded mode's one-time link) and come back.
      if (this.sessions) {
        res.status(401).type('html').send(messagePage('Not signed in', 'Sign in to the console first (npm start prints a one-time sign-in link; npm run keys -- sign-in-link makes another), then open the dashboard from it. Programs may read the dashboard with an API key: Authorization: Bearer <key>.', { href: '/console', label: 'Go to the console' }));
        return;
      }
      res.status(401).type('html').send(messagePage('Sign-in is not configured', 'This Plugboard has no operator sign-in (PLUGBOARD_OPERATOR_OIDC). Programs may read the dashboard with an API key: Authorization: Bearer <key>.'));
      return;
    }
    const parsed = connection === undefined ? undefined : LinkNameSchema.safeParse(connection);
    if (parsed && !parsed.success) {
      res.status(400).type('html').send(messagePage('No such connection', 'A connection link name holds lowercase letters, digits and underscores.', { href: '/dashboard', label: 'Back to the dashboard' }));
      return;
    }
    res.type('html').send(dashboardPage(await this.read(viewer, parsed?.data), viewer));
  }

  /** The same data as JSON, for programs. */
  @Get('data.json')
  async data(@Req() req: Request, @Res() res: Response, @Query('connection') connection?: unknown): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    const viewer = await this.viewer(req, res);
    if (!viewer) throw new DomainError(ErrorCodes.unauthenticated, 'Send a valid API key as "Authorization: Bearer <key>", or sign in at /dashboard/login.');
    const parsed = connection === undefined ? undefined : LinkNameSchema.safeParse(connection);
    if (parsed && !parsed.success) throw new DomainError(ErrorCodes.validationFailed, 'connection must be a connection link name.', [{ path: 'connection', message: 'must be a link name' }]);
    res.json(await this.read(viewer, parsed?.data));
  }

  @Get('login')
  async login(@Req() req: Request, @Res() res: Response, @Query('next') next?: unknown): Promise<void> {
    pageHeaders(res);
    if (!this.signIn) {
      res.status(404).type('html').send(messagePage('Sign-in is not configured', 'This Plugboard has no operator sign-in (PLUGBOARD_OPERATOR_OIDC).'));
      return;
    }
    await this.signIn.start(req, res, safeNext(next));
  }

  /** Where the identity provider sends the operator back. */
  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    pageHeaders(res);
    if (!this.signIn) {
      res.status(404).type('html').send(messagePage('Sign-in is not configured', 'This Plugboard has no operator sign-in (PLUGBOARD_OPERATOR_OIDC).'));
      return;
    }
    const outcome = await this.signIn.finish(req, res);
    if ('refused' in outcome) {
      res.status(403).type('html').send(messagePage('Not signed in', outcome.refused, { href: '/dashboard/login', label: 'Try again' }));
      return;
    }
    res.redirect(302, outcome.next);
  }

  @Post('logout')
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    pageHeaders(res);
    await this.sessions?.signOut(req, res);
    res.type('html').send(messagePage('Signed out', 'You have signed out of the Plugboard dashboard.', { href: '/dashboard/login', label: 'Sign in again' }));
  }

  private async viewer(req: Request, res: Response): Promise<Viewer | null> {
    if (req.headers.authorization) {
      // A program: an unknown key is an error, not a redirect to a sign-in page it cannot follow.
      const { principal } = await authenticate(this.apiKeys, req.headers, 'read_only');
      return { orgId: principal.orgId, role: principal.role, name: `key ${principal.keyId.slice(0, 8)}`, via: 'api-key' };
    }
    const signedIn = await this.sessions?.person(req, res);
    return signedIn ? { orgId: signedIn.person.orgId, role: signedIn.person.role, name: signedIn.person.displayName, via: 'sign-in' } : null;
  }

  private read(viewer: Viewer, connection: string | undefined): Promise<DashboardData> {
    return this.queries.read(viewer.orgId, { connection, withWebhooks: viewer.role === 'admin' });
  }
}
