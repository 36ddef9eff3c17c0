import { z } from 'zod';
import type { Role } from '../identifiers';

/**
 * Console sessions. A browser signs in (the org's OpenID Connect provider, or in embedded mode the one-time link
 * `npm start` prints) and gets a signed, HttpOnly cookie (`plugboard_session`, path `/`, SameSite=Lax) that every
 * `/v1` route, `/dashboard` and `/console` accept in place of an API key. A session acts as its person only: an
 * `X-User-Id` naming anyone else is `403 user_mismatch`. A request with a session cookie that changes something
 * (any method but GET/HEAD/OPTIONS) must carry an `Origin` header of this Plugboard (browsers send it), else
 * `403 cross_site_request`.
 */

/** `POST /v1/session/sign-in`: redeems the one-time sign-in link's token (JSON, or a form post). */
export const SignInWithLinkInputSchema = z.strictObject({
  token: z.string().min(1, 'must not be empty').max(200, 'must be 200 characters or fewer'),
});
export type SignInWithLinkInput = z.infer<typeof SignInWithLinkInputSchema>;

/** How a browser can sign in here. */
export interface SignInMethods {
  /** The org's OpenID Connect provider is configured: send the browser to `url` (it comes back to /console). */
  oidc: { configured: true; url: string } | { configured: false };
  /** One-time sign-in links exist in embedded mode (`npm start` prints one; `npm run keys -- sign-in-link` makes another). */
  link: boolean;
}

/** Who the caller is: `GET /v1/session` (public: without a session it says how to sign in). */
export type SessionView =
  | {
      signedIn: true;
      orgId: string;
      userId: string;
      role: Role;
      /** For the page header: the provider's name or e-mail, else the user id. */
      displayName: string;
      /** `session`: a console cookie; `api_key`: an Authorization header (person or product key). */
      via: 'session' | 'api_key';
      /** When the session ends (null for an API key). */
      expiresAt: string | null;
      signIn: SignInMethods;
    }
  | { signedIn: false; signIn: SignInMethods };

/** The first-run person of embedded mode: the sign-in link `npm start` prints signs in as this admin of org default. */
export const EMBEDDED_ADMIN_USER = 'admin';

/** How long a one-time sign-in link may be used (once). */
export const SIGN_IN_LINK_TTL_MS = 15 * 60 * 1000;
