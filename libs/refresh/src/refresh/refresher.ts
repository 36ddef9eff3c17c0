import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { connectionStreamId, DomainError, ErrorCodes, SYSTEM_ACTOR, type ConnectionCreated, type RefreshCredentialReply, type StoredCredential } from '@plugboard/contracts';
import { connectionDecider, credentialInForce, credentialKey, OWN_CREDENTIAL } from '@plugboard/connection-domain';
import { connectionCommands } from '@plugboard/connections';
import { EventStore } from '@plugboard/event-store';
import { clientCredentials, isOAuth2Error, refresh, type OAuth2Error } from '@plugboard/oauth2';
import { LOGGER } from '@plugboard/runtime';
import { Vault } from '@plugboard/vault';
import { CredentialMoved, vaultRowUnchanged } from './credential-moved';
import { Leases } from './leases';
import { OAuthSettingsResolver, type RefreshClientSettings } from './oauth-settings.resolver';
import { RefreshMetrics } from './refresh-metrics';
import { backoffDelayMs, classify, failureCode, type FailureClass } from './refresh-policy';
import { RefreshSchedule } from './refresh-schedule';
import { REFRESH_SETTINGS, type RefreshSettings } from './refresh-settings';

export interface RefreshJob {
  orgId: string;
  linkName: string;
  /** The user whose credential it is; null for the connection's own. */
  userId: string | null;
  trigger: 'on_demand' | 'scheduled';
  /** On demand: the vault version the caller used (and saw fail); a newer one means it was refreshed meanwhile. */
  seenVersion?: number;
  /** Scheduled: the credential the schedule names, and the expiry it knew; a later expiry in the vault means done. */
  credentialRef?: string;
  knownExpiresAt?: Date;
}

/** `busy`: another holder has the lease (scheduled jobs do not wait). `stale`: the schedule named a credential that is gone. */
export interface RefreshResult {
  outcome: RefreshCredentialReply['outcome'] | 'busy' | 'stale';
  expiresAt: string | null;
}

interface Target {
  orgId: string;
  linkName: string;
  userId: string | null;
  key: string;
  credentialRef: string;
  streamId: string;
  connection: ConnectionCreated['data'];
}

type OAuth2Credential = Extract<StoredCredential, { kind: 'oauth2' }>;

/**
 * Refreshes one credential, once, however many ask: concurrent requests in this process share one flight, replicas
 * take turns through a lease, the credential is read again under the lease (someone may have just refreshed it),
 * and the new tokens replace the old with a compare-and-swap, in the transaction that records TokenRefreshed.
 */
@Injectable()
export class Refresher {
  private readonly inFlight = new Map<string, Promise<RefreshResult>>();

  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly leases: Leases,
    private readonly resolver: OAuthSettingsResolver,
    private readonly schedule: RefreshSchedule,
    private readonly metrics: RefreshMetrics,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  refresh(job: RefreshJob): Promise<RefreshResult> {
    const key = [job.trigger, job.orgId, job.linkName, job.userId ?? OWN_CREDENTIAL, job.seenVersion ?? '', job.credentialRef ?? ''].join('\u0000');
    const existing = this.inFlight.get(key);
    if (existing) {
      this.metrics.coalesced += 1;
      return existing;
    }
    const flight = this.run(job).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, flight);
    return flight;
  }

  private async run(job: RefreshJob): Promise<RefreshResult> {
    const streamId = connectionStreamId(job.orgId, job.linkName);
    const { state } = await this.store.aggregateStream(streamId, connectionDecider);
    if (state.status !== 'active') return this.gone(job, () => new DomainError(ErrorCodes.connectionNotFound, `No connection with link name "${job.linkName}" exists in this organization.`));
    const key = job.userId === null ? OWN_CREDENTIAL : credentialKey(state.connection, job.userId);
    const credential = state.credentials[key];
    if (!credential || (job.credentialRef && credential.credentialRef !== job.credentialRef)) {
      return this.gone(job, () => new DomainError(ErrorCodes.notAuthorized, 'This connection has no credential to refresh for this user: authorize it first.'));
    }
    if (credential.status === 'revoked') {
      if (job.credentialRef) await this.schedule.remove(job.credentialRef);
      return { outcome: 'revoked', expiresAt: null };
    }
    const target: Target = {
      orgId: job.orgId,
      linkName: job.linkName,
      userId: key === OWN_CREDENTIAL ? null : key,
      key,
      credentialRef: credential.credentialRef,
      streamId,
      connection: state.connection,
    };
    // On demand, wait for the holder (its result is what the caller wants); the scheduler moves on instead.
    const lease = await this.leases.acquire(target.credentialRef, job.trigger === 'on_demand' ? this.settings.leaseTtlMs + 2_000 : 0);
    if (!lease) return { outcome: job.trigger === 'on_demand' ? 'failed' : 'busy', expiresAt: null };
    try {
      return await this.underLease(job, target);
    } finally {
      await lease.release().catch((error: unknown) => this.logger.warn({ err: error, credentialRef: target.credentialRef }, 'could not release a refresh lease; it will expire'));
    }
  }

  /** The schedule named a credential that no longer exists: forget it. On demand, the caller hears why. */
  private async gone(job: RefreshJob, error: () => DomainError): Promise<RefreshResult> {
    if (job.trigger === 'on_demand') throw error();
    if (job.credentialRef) await this.schedule.remove(job.credentialRef);
    return { outcome: 'stale', expiresAt: null };
  }

  private async underLease(job: RefreshJob, target: Target): Promise<RefreshResult> {
    const current = await this.vault.getVersioned<StoredCredential>(this.store.dataSource.manager, target.credentialRef, target.orgId);
    // Erased: deleted or re-authorized since the stream was read.
    if (!current) return { outcome: 'revoked', expiresAt: null };
    if (current.value.kind !== 'oauth2') {
      // Not a token (an API key, Basic, OAuth 1.0a): nothing to refresh, and nothing went wrong with the credential.
      await this.schedule.remove(target.credentialRef);
      this.metrics.fail('configuration');
      return { outcome: 'failed', expiresAt: null };
    }
    const credential = current.value;
    if (this.isFresh(job, current.version, credential)) {
      this.metrics.alreadyFresh += 1;
      return { outcome: 'already_fresh', expiresAt: credential.expiresAt };
    }
    // After a transient failure the provider gets its rest, whoever asks.
    if (job.trigger === 'on_demand' && (await this.schedule.cooldownUntil(target.credentialRef))) return { outcome: 'failed', expiresAt: credential.expiresAt };

    let client: RefreshClientSettings;
    try {
      client = await this.resolver.resolve(target.orgId, target.connection);
    } catch (error) {
      if (error instanceof DomainError) return this.failTransiently(target, 'configuration', error.code, null, credential);
      throw error;
    }
    if (client.grantType === 'authorization_code' && !credential.refreshToken) {
      // Nothing to refresh with: only a new authorization helps, and retrying cannot.
      await this.schedule.remove(target.credentialRef);
      return this.reauthorizationRequired(target, credential.expiresAt);
    }

    // Read under the lease, before the provider is asked: a refresh recorded since then makes this result the loser.
    const { state } = await this.store.aggregateStream(target.streamId, connectionDecider);
    const refreshes = (state.status === 'active' && state.credentials[target.key]?.refreshes) || 0;

    let next: OAuth2Credential;
    let rotated = false;
    try {
      if (client.grantType === 'client_credentials') {
        // Client credentials have no refresh token to spend: a new token is minted.
        const tokens = await clientCredentials({ ...this.call(client), tokenUrl: client.tokenUrl, scopes: target.connection.scopes, scopeDelimiter: client.scopeDelimiter });
        next = { kind: 'oauth2', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenType: tokens.tokenType, expiresAt: tokens.expiresAt, scopes: tokens.scopes ?? credential.scopes };
      } else {
        const tokens = await refresh({ ...this.call(client), tokenUrl: client.refreshUrl, refreshToken: credential.refreshToken as string });
        // `refresh` keeps the presented refresh token when the response has none, and reports a rotation.
        next = { kind: 'oauth2', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenType: tokens.tokenType, expiresAt: tokens.expiresAt, scopes: tokens.scopes ?? credential.scopes };
        rotated = tokens.refreshTokenRotated;
      }
    } catch (error) {
      if (!isOAuth2Error(error)) throw error;
      return this.onProviderError(target, error, current.version, credential);
    }
    return this.write(target, current.version, refreshes, next, rotated);
  }

  private isFresh(job: RefreshJob, version: number, credential: OAuth2Credential): boolean {
    const expiresAt = credential.expiresAt === null ? null : Date.parse(credential.expiresAt);
    // The caller's token failed: only a newer version than the one it used is an answer.
    if (job.seenVersion !== undefined) return version > job.seenVersion;
    if (job.knownExpiresAt) return expiresAt !== null && expiresAt > job.knownExpiresAt.getTime();
    return expiresAt !== null && expiresAt - Date.now() > this.settings.minValidityMs;
  }

  private call(client: RefreshClientSettings) {
    return {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientAuth: client.clientAuth,
      extraParams: client.extraTokenParams,
      allowInsecureLocalhost: client.allowInsecureLocalhost,
      fetch: client.fetch,
      timeoutMs: this.settings.tokenTimeoutMs,
    };
  }

  /** The new tokens and TokenRefreshed commit together, and only over the version that was refreshed. */
  private async write(target: Target, version: number, refreshes: number, next: OAuth2Credential, rotated: boolean): Promise<RefreshResult> {
    const refreshedAt = new Date();
    let recorded: Awaited<ReturnType<typeof connectionCommands.handle>>;
    try {
      recorded = await connectionCommands.handle(
        this.store,
        { type: 'RecordTokenRefresh', data: { ...this.about(target), expiresAt: next.expiresAt, refreshTokenRotated: rotated, refreshes, now: refreshedAt.toISOString() } },
        {
          metadata: this.metadata(target),
          alsoWrite: async (manager) => {
            const swapped = await this.vault.compareAndSwap(manager, { id: target.credentialRef, orgId: target.orgId, purpose: `connection.${target.linkName}.credential`, value: next }, version);
            if (!swapped) throw new CredentialMoved();
            await this.schedule.refreshed(manager, target.credentialRef, next.expiresAt ? new Date(next.expiresAt) : null, refreshedAt);
          },
        },
      );
    } catch (error) {
      if (!(error instanceof CredentialMoved)) throw error;
      // Cannot happen while leases hold (the token call times out well within one); if it does, the vault keeps the other write.
      this.metrics.casConflicts += 1;
      this.logger.error({ orgId: target.orgId, linkName: target.linkName, credentialRef: target.credentialRef }, 'another writer replaced a credential during its refresh; the newer tokens were kept');
      return { outcome: 'already_fresh', expiresAt: null };
    }
    if (recorded.events.length === 0) {
      // Another refresh was recorded first (it holds the newer tokens), or the credential was revoked, replaced or
      // deleted while the provider answered and the new tokens belong to nobody.
      return credentialInForce(recorded.state, target) ? { outcome: 'already_fresh', expiresAt: null } : { outcome: 'revoked', expiresAt: null };
    }
    this.metrics.refreshed += 1;
    this.logger.debug({ orgId: target.orgId, linkName: target.linkName, credentialRef: target.credentialRef, expiresAt: next.expiresAt, rotated }, 'token refreshed');
    return { outcome: 'refreshed', expiresAt: next.expiresAt };
  }

  private onProviderError(target: Target, error: OAuth2Error, version: number, credential: OAuth2Credential): Promise<RefreshResult> {
    const kind = classify(error);
    const code = failureCode(error);
    if (kind === 'definitive') return this.failDefinitively(target, code, version);
    return this.failTransiently(target, kind, code, error.retryAfterMs, credential);
  }

  /**
   * The provider refused for good (invalid_grant, a revoked client): TokenRefreshFailed, then that one credential is
   * revoked with reason refresh_failed. Unless, under the vault row's lock, the credential turns out to have been
   * refreshed by someone else since it was read: then the refusal was about a spent token and nothing is revoked.
   */
  private async failDefinitively(target: Target, code: string, version: number): Promise<RefreshResult> {
    try {
      await connectionCommands.handle(
        this.store,
        { type: 'RecordRefreshFailure', data: { ...this.about(target), definitive: true, error: code, now: new Date().toISOString() } },
        { metadata: this.metadata(target), precondition: vaultRowUnchanged({ ...target, version }, 'unchanged') },
      );
    } catch (error) {
      if (!(error instanceof CredentialMoved)) throw error;
      this.metrics.alreadyFresh += 1;
      return { outcome: 'already_fresh', expiresAt: null };
    }
    // Recorded or not (a credential revoked or replaced meanwhile records nothing), the schedule is done with it.
    await this.schedule.remove(target.credentialRef);
    this.metrics.fail('definitive');
    this.logger.warn({ orgId: target.orgId, linkName: target.linkName, userId: target.userId, credentialRef: target.credentialRef, error: code }, 'token refresh failed for good; the credential is revoked');
    return { outcome: 'revoked', expiresAt: null };
  }

  /** Worth another try later: TokenRefreshFailed{definitive: false}, and a backoff (at least the Retry-After) before it. */
  private async failTransiently(target: Target, kind: FailureClass, code: string, retryAfterMs: number | null, credential: OAuth2Credential): Promise<RefreshResult> {
    let backoff: { attempts: number; retryAt: Date } | undefined;
    await connectionCommands.handle(
      this.store,
      { type: 'RecordRefreshFailure', data: { ...this.about(target), definitive: false, error: code, now: new Date().toISOString() } },
      {
        metadata: this.metadata(target),
        alsoWrite: async (manager) => {
          backoff = await this.schedule.failed(manager, target.credentialRef, code, (n) => backoffDelayMs(n, retryAfterMs, this.settings));
        },
      },
    );
    this.metrics.fail(kind);
    this.logger.warn({ orgId: target.orgId, linkName: target.linkName, credentialRef: target.credentialRef, error: code, ...backoff }, 'token refresh failed; it will be retried');
    return { outcome: 'failed', expiresAt: credential.expiresAt };
  }

  /**
   * No refresh token: no retry cures it without a person, and the credential is not revoked either (it works until it
   * expires). Recorded once per credential (TokenRefreshFailed and ReauthorizationRequired together, so the connection
   * reads reauthorizationRequired and the org's webhook hears of it); later asks find it recorded and append nothing.
   */
  private async reauthorizationRequired(target: Target, expiresAt: string | null): Promise<RefreshResult> {
    const { events } = await connectionCommands.handle(
      this.store,
      { type: 'RecordReauthorizationRequired', data: { ...this.about(target), expiresAt, now: new Date().toISOString() } },
      { metadata: this.metadata(target) },
    );
    if (events.length > 0) {
      this.metrics.fail('configuration');
      this.logger.warn({ orgId: target.orgId, linkName: target.linkName, credentialRef: target.credentialRef, error: 'no_refresh_token' }, 'token cannot be refreshed; the user must authorize again');
    }
    return { outcome: 'reauthorization_required', expiresAt };
  }

  /** The credential a result is about, as the connection's commands name it. */
  private about(target: Target) {
    return { orgId: target.orgId, linkName: target.linkName, userId: target.userId, credentialRef: target.credentialRef };
  }

  private metadata(target: Target) {
    return { orgId: target.orgId, userId: SYSTEM_ACTOR };
  }
}
