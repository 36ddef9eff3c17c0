import type { NextFunction, Request, Response } from 'express';
import passport from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { OrgIdSchema, RoleSchema, UserIdSchema } from '@plugboard/contracts';
import { EgressPolicy } from '@plugboard/outbound';
import { publicUrlOf, type OperatorOidc, type PlatformConfig } from '@plugboard/runtime';
import type { ConsoleSessions, SessionPerson } from '../session/console-sessions';

const STRATEGY = 'operator-oidc';

type SignInOutcome = { person: SessionPerson; next: string } | { refused: string };

/**
 * Sign-in by the org's identity provider (console and dashboard): the OAuth 2 authorization code flow with PKCE and
 * state (passport-oauth2), the provider's userinfo for the user, org and role claims, and a console session
 * (ConsoleSessions) for the person. The state and PKCE verifier wait in the session cookie while a sign-in is under
 * way; no token is kept: the access token is used once, for the userinfo call, and dropped.
 */
export class OperatorSignIn {
  private readonly authenticator = new passport.Passport();

  constructor(
    private readonly oidc: OperatorOidc,
    publicUrl: string,
    private readonly sessions: ConsoleSessions,
    private readonly egress: EgressPolicy,
  ) {    const strategy = new OAuth2Strategy(
      {
        authorizationURL: oidc.authorizeUrl,
        tokenURL: oidc.tokenUrl,
        clientID: oidc.clientId,
        clientSecret: oidc.clientSecret,
        callbackURL: `${publicUrl}/dashboard/callback`,
        scope: oidc.scope,
        state: true,
        pkce: true,
      },
      (_accessToken: string, _refreshToken: string, claims: Record<string, unknown>, done: OAuth2Strategy.VerifyCallback) => {
        const outcome = this.operatorFrom(claims);
        if ('refused' in outcome) done(null, false, { message: outcome.refused });
        else done(null, outcome as unknown as Express.User);
      },
    );
    strategy.userProfile = (accessToken, done) => void this.userinfo(accessToken).then((claims) => done(null, claims), done);
    // The token call is made by the `oauth` package on node:https: its agent puts it under the egress policy (the
    // address checked when the socket connects, a deadline the package does not set itself).
    (strategy as unknown as { _oauth2: { setAgent(agent: unknown): void } })._oauth2.setAgent(egress.agentFor(new URL(oidc.tokenUrl).protocol, egress.timeouts.signInMs));
    this.authenticator.use(STRATEGY, strategy);
  }

  /** From the configuration: null when no identity provider is configured (API keys and sign-in links only). */
  static fromConfig(config: PlatformConfig, sessions: ConsoleSessions | null, egress: EgressPolicy): OperatorSignIn | null {
    const oidc = config.PLUGBOARD_OPERATOR_OIDC;
    if (!oidc) return null;
    // loadConfig requires a session secret with PLUGBOARD_OPERATOR_OIDC, so sessions exist here.
    if (!sessions) throw new Error('PLUGBOARD_DASHBOARD_SESSION_SECRET or PLUGBOARD_MASTER_KEY is required for operator sign-in');
    return new OperatorSignIn(oidc, publicUrlOf(config), sessions, egress);
  }

  /** Sends the browser to the provider; `next` is where to land afterwards. */
  async start(req: Request, res: Response, next: string): Promise<void> {
    const session = await this.sessions.data(req, res);
    session.next = next;
    await new Promise<void>((resolve, reject) => {
      res.once('finish', () => resolve());
      this.authenticator.authenticate(STRATEGY, { session: false })(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    });
  }

  /** Completes the provider's redirect back: the operator on success, or why not (a sentence with no secret). */
  async finish(req: Request, res: Response): Promise<SignInOutcome> {
    const session = await this.sessions.data(req, res);
    const next = session.next ?? '/dashboard';
    // Without a code or an error, passport-oauth2 would start a new authorization instead of finishing one.
    const arrived = typeof req.query.code === 'string' || typeof req.query.error === 'string';
    const outcome: SignInOutcome = arrived ? await this.exchange(req, res, next) : { refused: 'This address is where the identity provider sends you back after signing in; start at /dashboard.' };
    // The sign-in's state and verifier are used up either way; a refused callback (a link anyone can send) leaves an
    // operator already signed in as they were.
    const kept = session.person && (session.expiresAt ?? 0) > Date.now() ? { person: session.person, expiresAt: session.expiresAt } : null;
    if ('person' in outcome) await this.sessions.signIn(req, res, outcome.person);
    else await this.sessions.replace(req, res, kept);
    return outcome;
  }

  /** The code for tokens, the tokens for userinfo claims, the claims for an operator (or the reason there is none). */
  private exchange(req: Request, res: Response, next: string): Promise<SignInOutcome> {
    // Plain http or a private address for the provider is refused unless the operator allowed its host
    // (PLUGBOARD_INVOKE_ALLOW_HOSTS); a name is checked again where it resolves, when the socket connects.
    if (typeof req.query.code === 'string' && this.egress.refusal(new URL(this.oidc.tokenUrl))) {
      return Promise.resolve({ refused: 'This Plugboard may not call its identity provider (its address is not allowed: see PLUGBOARD_INVOKE_ALLOW_HOSTS). Ask your administrator.' });
    }
    return new Promise<SignInOutcome>((resolve) => {
      const done = (err: unknown, user: SessionPerson | false, info?: { message?: string }) => {
        // The provider's error_description comes from the URL, which anyone can write: never shown.
        if (typeof req.query.error === 'string') resolve({ refused: req.query.error === 'access_denied' ? 'The sign-in was cancelled at the identity provider.' : 'The identity provider did not complete the sign-in. Try again, or ask your administrator.' });
        else if (err) resolve({ refused: 'The identity provider did not complete the sign-in. Try again, or ask your administrator.' });
        else if (!user) resolve({ refused: info?.message && !/state|verifier/i.test(info.message) ? info.message : 'The sign-in could not be verified (it expired, or was started in another browser). Try again.' });
        else resolve({ person: user, next });
      };
      this.authenticator.authenticate(STRATEGY, { session: false }, done)(req, res, ((err: unknown) => done(err, false)) as NextFunction);
    });
  }

  private async userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const response = await this.egress.fetch(this.oidc.userinfoUrl, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.egress.timeouts.signInMs) });
    if (!response.ok) throw new Error(`the userinfo endpoint answered ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  private operatorFrom(claims: Record<string, unknown>): SessionPerson | { refused: string } {
    const org = OrgIdSchema.safeParse(claims[this.oidc.orgClaim]);
    const role = RoleSchema.safeParse(claims[this.oidc.roleClaim]);
    const subject = typeof claims.sub === 'string' ? claims.sub : null;
    if (!subject) return { refused: 'The identity provider did not say who you are (no sub claim).' };
    if (!org.success) return { refused: `Your account does not name a Plugboard organization (claim ${this.oidc.orgClaim}). Ask your administrator.` };
    if (!role.success) return { refused: `Your account has no Plugboard role (claim ${this.oidc.roleClaim}: admin, member or read_only). Ask your administrator.` };
    if (this.oidc.orgs && !this.oidc.orgs.includes(org.data)) return { refused: 'This identity provider may not sign you in to your organization here.' };
    const user = UserIdSchema.safeParse(claims[this.oidc.userClaim]);
    if (!user.success) return { refused: `Your account's ${this.oidc.userClaim} claim is not a Plugboard user id (1–128 letters, digits or . _ @ + -). Ask your administrator to set userClaim.` };
    const name = [claims.name, claims.preferred_username, claims.email].find((v): v is string => typeof v === 'string' && v.length > 0);
    return { orgId: org.data, userId: user.data, role: role.data, displayName: name ?? user.data };
  }
}
