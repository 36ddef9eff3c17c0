import { DomainError, ErrorCodes, hasControlCharacter } from '@plugboard/contracts';
import { publicUrlOf, type PlatformConfig } from '@plugboard/runtime';

/**
 * Where an OAuth authorization may send the browser back: the origins of PLUGBOARD_RETURN_URL_ORIGINS and
 * PLUGBOARD_PUBLIC_URL's own. Anything else would make Plugboard's callback an open redirect that carries the
 * outcome of someone's authorization to a page of the attacker's choice.
 */
export class ReturnUrls {
  private readonly origins: string[];

  constructor(config: PlatformConfig) {
    this.origins = [...new Set([new URL(publicUrlOf(config)).origin, ...config.PLUGBOARD_RETURN_URL_ORIGINS])];
  }

  /**
   * The URL as it will be stored and redirected to (normalized, so what was checked is what is used), or
   * `return_url_not_allowed`. Checked on the text as given: URL parsing drops tabs and line breaks silently, and
   * reads a backslash as a slash where other parsers may not.
   */
  check(returnUrl: string, field = 'authorization.returnUrl'): string {
    const url = !hasControlCharacter(returnUrl) && !/[\s\\]/.test(returnUrl) && URL.canParse(returnUrl) ? new URL(returnUrl) : null;
    if (url && /^https?:$/.test(url.protocol) && !url.username && !url.password && this.origins.includes(url.origin)) return url.href;
    const message = `returnUrl must be an absolute http(s) URL, with no user name, on an origin this Plugboard allows (${this.origins.join(', ')}); add others to PLUGBOARD_RETURN_URL_ORIGINS`;
    throw new DomainError(ErrorCodes.returnUrlNotAllowed, `The request is not valid. ${field}: ${message}.`, [{ path: field, message }]);
  }
}
