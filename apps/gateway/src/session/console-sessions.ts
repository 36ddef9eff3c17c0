import { hkdfSync } from 'node:crypto';
import cookieSession from 'cookie-session';
import type { Request, RequestHandler, Response } from 'express';
import Keygrip from 'keygrip';
import { DomainError, ErrorCodes, type Role } from '@plugboard/contracts';
import { publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { Keyring } from '@plugboard/vault';

/** Someone signed in to the console (and the dashboard), by the org's identity provider or a one-time link. */
export interface SessionPerson {
  orgId: string;
  /** The Plugboard user id the session acts as, and only as. */
  userId: string;
  role: Role;
  /** For the page header: the provider's name or e-mail, else the user id. */
  displayName: string;
}

/** What the signed cookie holds: who and until when, and while an OIDC sign-in is under way its state and PKCE verifier. */
export interface SessionData {
  person?: SessionPerson;
  /** Epoch ms after which the session is refused, whatever the cookie's own expiry says. */
  expiresAt?: number;
  /** Where to go after signing in (a /console or /dashboard path). */
  next?: string;
}

export const SESSION_COOKIE = 'plugboard_session';
/** The gateway's ConsoleSessions, or null when it has no secret to sign cookies with. */
export const CONSOLE_SESSIONS = Symbol('CONSOLE_SESSIONS');
export const SESSION_HOURS = 8;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Console sessions: a signed cookie (cookie-session, HMAC-SHA256), so any gateway replica can read it, with no
 * server-side state. It holds who signed in and until when; it is signed, not encrypted, and holds no token. Path `/`
 * so the console's calls to `/v1` carry it; HttpOnly, SameSite=Lax, and Secure when the public URL is https.
 */
export class ConsoleSessions {
  private readonly cookies: RequestHandler;
  private readonly secure: boolean;
  private readonly publicOrigin: string;

  constructor(secret: Buffer, publicUrl: string) {
    this.secure = publicUrl.startsWith('https:');
    this.publicOrigin = new URL(publicUrl).origin;
    this.cookies = cookieSession({
      name: SESSION_COOKIE,
      keys: new Keygrip([secret.toString('base64')], 'sha256'),
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      maxAge: SESSION_HOURS * 3600_000,
    });
  }

  /** From the configuration: null when there is no secret to sign cookies with (the gateway then takes API keys only). */
  static fromConfig(config: PlatformConfig): ConsoleSessions | null {
    const secret = sessionSecret(config);
    return secret ? new ConsoleSessions(secret, publicUrlOf(config)) : null;
  }

  /** The session's data (empty without a cookie, or with a forged one). */
  async data(req: Request, res: Response): Promise<SessionData> {
    const carrier = req as Request & { session?: SessionData | null };
    if (carrier.session === undefined) {
      // cookies refuses to set a Secure cookie on a plain-http request; behind a TLS-terminating proxy the public URL
      // says the browser speaks https.
      if (this.secure && req.protocol !== 'https') Object.defineProperty(req, 'protocol', { value: 'https', configurable: true });
      await new Promise<void>((resolve, reject) => this.cookies(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
    }
    return carrier.session ?? {};
  }

  /** The signed-in person, or null (no cookie, a bad signature, or an expired session). */
  async person(req: Request, res: Response): Promise<{ person: SessionPerson; expiresAt: number } | null> {
    const session = await this.data(req, res);
    if (!session.person || !session.expiresAt || session.expiresAt < Date.now()) return null;
    return { person: session.person, expiresAt: session.expiresAt };
  }

  /** Starts a session for the person (a new cookie: nothing of an earlier session or sign-in is kept). */
  async signIn(req: Request, res: Response, person: SessionPerson): Promise<number> {
    await this.data(req, res);
    const expiresAt = Date.now() + SESSION_HOURS * 3600_000;
    (req as { session?: SessionData | null }).session = { person, expiresAt };
    return expiresAt;
  }

  /** Replaces the session's data (the OIDC sign-in keeps its state there while it runs). */
  async replace(req: Request, res: Response, data: SessionData | null): Promise<void> {
    await this.data(req, res);
    (req as { session?: SessionData | null }).session = data;
  }

  async signOut(req: Request, res: Response): Promise<void> {
    await this.replace(req, res, null);
  }

  /**
   * A cookie goes with every request the browser makes to this origin, including ones another site triggers: a
   * request that changes something must say it comes from a page of this Plugboard. Browsers send `Origin` on every
   * such request (fetch and forms alike); its host must be this gateway's (the Host the browser addressed, or the
   * public URL's), else `cross_site_request`.
   */
  checkSameOrigin(req: Request): void {
    if (SAFE_METHODS.has(req.method)) return;
    const origin = req.headers.origin;
    const parsed = typeof origin === 'string' && URL.canParse(origin) ? new URL(origin) : null;
    if (parsed && (parsed.origin === this.publicOrigin || parsed.host === req.headers.host)) return;
    throw new DomainError(ErrorCodes.crossSiteRequest, 'This request carries a console session but does not come from a page of this Plugboard (no matching Origin header), so it was refused.');
  }
}

/** PLUGBOARD_DASHBOARD_SESSION_SECRET, else a key derived from the current master key (rotating it ends sessions). */
export function sessionSecret(config: PlatformConfig): Buffer | null {
  if (config.PLUGBOARD_DASHBOARD_SESSION_SECRET) return Buffer.from(config.PLUGBOARD_DASHBOARD_SESSION_SECRET);
  if (!config.PLUGBOARD_MASTER_KEY) return null;
  return Buffer.from(hkdfSync('sha256', Keyring.parse(config.PLUGBOARD_MASTER_KEY).current.key, Buffer.alloc(0), 'plugboard dashboard session', 32));
}
