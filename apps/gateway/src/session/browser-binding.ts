import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { publicUrlOf, type PlatformConfig } from '@plugboard/runtime';

/** The gateway's BrowserBinding. */
export const BROWSER_BINDING = Symbol('BROWSER_BINDING');

const VALUE = /^[A-Za-z0-9_-]{43}$/;
const MAX_AGE_SECONDS = 24 * 3600;

/**
 * The cookie that binds an OAuth flow to the browser that started it. The gateway gives a browser a random value
 * (or keeps the one it has, so two tabs' flows both complete), tells the connection app only its SHA-256, and at the
 * callback passes the hash of the cookie the browser brought: a redirect that arrives in any other browser (a link
 * someone was sent, an authorization URL handed to a victim) matches nothing. Over https the name takes the
 * `__Host-` prefix, which no subdomain can set.
 */
export class BrowserBinding {
  private readonly name: string;
  private readonly secure: boolean;

  constructor(publicUrl: string) {
    this.secure = publicUrl.startsWith('https:');
    this.name = this.secure ? '__Host-plugboard_browser' : 'plugboard_browser';
  }

  static fromConfig(config: PlatformConfig): BrowserBinding {
    return new BrowserBinding(publicUrlOf(config));
  }

  /** This browser's binding (made and set now if it has none), as the hash the connection app keeps. */
  bind(req: Request, res: Response): string {
    const value = this.valueOf(req) ?? randomBytes(32).toString('base64url');
    res.append('set-cookie', `${this.name}=${value}; Path=/; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`);
    return hash(value);
  }

  /** The hash of the binding the browser brought, or null. */
  of(req: Request): string | null {
    const value = this.valueOf(req);
    return value ? hash(value) : null;
  }

  private valueOf(req: Request): string | null {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.name) {
        const value = part.slice(eq + 1).trim();
        if (VALUE.test(value)) return value;
      }
    }
    return null;
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
