import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { StoredCredential } from '@plugboard/contracts';
import { isOAuth2Error, revoke } from '@plugboard/oauth2';
import { LOGGER } from '@plugboard/runtime';
import { ServiceDefinitions, type OAuth2Settings, type ServiceRef } from '@plugboard/registry';
import { EgressPolicy } from '@plugboard/outbound';

export interface RetiredCredential {
  credentialRef: string;
  credential: StoredCredential;
}

/**
 * Tells an OAuth 2 provider that tokens Plugboard no longer uses are dead (RFC 7009), after the revocation or
 * deletion is recorded: in the background, best effort, so a provider that is down neither fails nor slows it. The
 * refresh token goes when there is one (revoking it ends the grant at most providers), else the access token.
 * OAuth 1.0a, API keys and Basic credentials have nothing to call.
 */
@Injectable()
export class ProviderRevoker implements BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly services: ServiceDefinitions,
    @Inject(LOGGER) private readonly logger: Logger,
    /** The revocation URL is a service owner's choice: under the egress policy, never inside the deployment. */
    private readonly egress: EgressPolicy,
  ) {}

  /** Starts the calls and returns at once. */
  revokeLater(orgId: string, linkName: string, service: ServiceRef, retired: RetiredCredential[]): void {
    const tokens = retired.filter((r) => r.credential.kind === 'oauth2');
    if (tokens.length === 0) return;
    const work = this.revokeAll(orgId, linkName, service, tokens).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** Shutdown lets the calls under way finish (each is bounded by its timeout). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private async revokeAll(orgId: string, linkName: string, service: ServiceRef, tokens: RetiredCredential[]): Promise<void> {
    let settings: OAuth2Settings;
    try {
      settings = await this.services.oauth2(orgId, service);
    } catch (error) {
      this.logger.warn({ orgId, linkName, err: error instanceof Error ? error.message : String(error) }, 'could not tell the provider to revoke tokens: the service settings are unavailable');
      return;
    }
    const revokeUrl = settings.revokeUrl;
    if (!revokeUrl) return;
    const allowInsecureLocalhost = this.egress.allowsPlainHttp(revokeUrl);
    for (const { credentialRef, credential } of tokens) {
      if (credential.kind !== 'oauth2') continue;
      const token = credential.refreshToken ?? credential.accessToken;
      const tokenTypeHint = credential.refreshToken ? 'refresh_token' : 'access_token';
      try {
        await revoke({ revokeUrl, clientId: settings.clientId, clientSecret: settings.clientSecret, clientAuth: settings.clientAuth, token, tokenTypeHint, allowInsecureLocalhost, timeoutMs: this.egress.timeouts.oauthMs, fetch: this.egress.fetch });
        this.logger.info({ orgId, linkName, credentialRef, tokenTypeHint }, 'the provider revoked the token');
      } catch (error) {
        // OAuth2Error carries no token, secret or response body; only its classification is logged.
        const detail = isOAuth2Error(error) ? { kind: error.kind, error: error.error, status: error.status, code: error.code } : { kind: 'unexpected' };
        this.logger.warn({ orgId, linkName, credentialRef, ...detail }, 'the provider did not confirm the token revocation; the token stays valid there until it expires');
      }
    }
  }
}
