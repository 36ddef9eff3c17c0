import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { actingUser, ApiKeys, authenticate, SignInLinks } from '@plugboard/access';
import { DomainError, ErrorCodes, parseOrThrow, SignInWithLinkInputSchema, type SessionView, type SignInMethods } from '@plugboard/contracts';
import { DASHBOARD_SIGN_IN } from '../dashboard/dashboard.routes';
import type { OperatorSignIn } from '../dashboard/operator-sign-in';
import { Public } from '../http/auth';
import { CONSOLE_SESSIONS, type ConsoleSessions, type SessionPerson } from './console-sessions';

/** Where the console sends a browser that signs in with the org's identity provider. */
export const OIDC_SIGN_IN_URL = '/dashboard/login?next=%2Fconsole';

const FORM = /^application\/x-www-form-urlencoded\b/i;

/** A small urlencoded body (the sign-in form's), read here: the gateway's body parser takes JSON only. */
async function readForm(req: Request): Promise<Record<string, string>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 4096) throw new DomainError(ErrorCodes.payloadTooLarge, 'The form is larger than 4 KiB.');
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * `/v1/session`: who the caller is, signing in with a one-time link, and signing out. Public routes (the guard would
 * refuse a browser without a session); each checks what it needs itself.
 */
@Controller('v1/session')
@Public()
export class SessionRoutes {
  constructor(
    @Inject(ApiKeys) private readonly apiKeys: ApiKeys,
    @Inject(SignInLinks) private readonly links: SignInLinks,
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions | null,
    @Inject(DASHBOARD_SIGN_IN) private readonly oidc: OperatorSignIn | null,
  ) {}

  @Get()
  async who(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionView> {
    res.setHeader('cache-control', 'no-store');
    const signIn = this.methods();
    if (req.headers.authorization) {
      const { principal, actor } = await authenticate(this.apiKeys, req.headers, 'read_only');
      return { signedIn: true, orgId: actor.orgId, userId: actor.userId, role: principal.role, displayName: principal.user ?? actor.userId, via: 'api_key', expiresAt: null, signIn };
    }
    const signedIn = await this.sessions?.person(req, res);
    if (!signedIn) return { signedIn: false, signIn };
    const { person, expiresAt } = signedIn;
    // The same rule as every route: a session acts as its person only.
    actingUser(person.userId, req.headers['x-user-id'], person.userId);
    return this.view(person, expiresAt);
  }

  /** Redeems a one-time sign-in link: JSON gets the session, a form post (no script needed) a redirect to the console. */
  @Post('sign-in')
  async signInWithLink(@Req() req: Request, @Res() res: Response, @Body() body: unknown): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    const form = FORM.test(req.headers['content-type'] ?? '');
    try {
      if (!this.sessions) throw new DomainError(ErrorCodes.unavailable, 'This Plugboard has no session secret (PLUGBOARD_DASHBOARD_SESSION_SECRET or PLUGBOARD_MASTER_KEY), so it cannot sign browsers in.');
      // A page of another site must not sign a browser in to someone's account (login CSRF): a browser says where it posts from.
      if (req.headers.origin !== undefined) this.sessions.checkSameOrigin(req);
      const { token } = parseOrThrow(SignInWithLinkInputSchema, form ? await readForm(req) : (body ?? {}));
      const person = await this.links.redeem(token);
      if (!person) throw new DomainError(ErrorCodes.signInLinkInvalid, 'This sign-in link is unknown, used or expired. Run `npm run keys -- sign-in-link` (or restart Plugboard) for a new one.');
      const expiresAt = await this.sessions.signIn(req, res, { ...person, displayName: person.userId });
      if (form) return void res.redirect(303, '/console');
      res.status(200).json(this.view({ ...person, displayName: person.userId }, expiresAt));
    } catch (error) {
      if (form && error instanceof DomainError) return void res.redirect(303, `/console/sign-in?error=${error.code}`);
      throw error;
    }
  }

  @Post('sign-out')
  @HttpCode(204)
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (!this.sessions) return;
    if (await this.sessions.person(req, res)) this.sessions.checkSameOrigin(req);
    await this.sessions.signOut(req, res);
  }

  private view(person: SessionPerson, expiresAt: number): SessionView {
    return { signedIn: true, ...person, via: 'session', expiresAt: new Date(expiresAt).toISOString(), signIn: this.methods() };
  }

  private methods(): SignInMethods {
    return { oidc: this.oidc ? { configured: true, url: OIDC_SIGN_IN_URL } : { configured: false }, link: this.sessions !== null };
  }
}
