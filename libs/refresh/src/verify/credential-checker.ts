import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { connectionStreamId, DomainError, SYSTEM_ACTOR, type ConnectionCreated, type StoredCredential } from '@plugboard/contracts';
import { connectionDecider, OWN_CREDENTIAL } from '@plugboard/connection-domain';
import { connectionCommands } from '@plugboard/connections';
import { EventStore } from '@plugboard/event-store';
import { EgressPolicy, verificationTargetOf, verifyCredential, type ServiceCalls, type VerificationOutcome, type VerificationTarget } from '@plugboard/outbound';
import { LOGGER } from '@plugboard/runtime';
import { ServiceDefinitions } from '@plugboard/registry';
import { Vault } from '@plugboard/vault';
import { CredentialMoved, vaultRowUnchanged } from '../refresh/credential-moved';
import { RefreshMetrics } from '../refresh/refresh-metrics';
import { backoffDelayMs } from '../refresh/refresh-policy';
import { REFRESH_SETTINGS, type RefreshSettings } from '../refresh/refresh-settings';
import { VerifySchedule, type DueCheck } from './verify-schedule';

export type CheckOutcome = 'valid' | 'revoked' | 'inconclusive' | 'unverifiable' | 'gone';

/**
 * Re-checks one credential that never expires with its service's verification call. A 401 or 403 revokes that one
 * credential (reason `verification_failed`), unless it was rewritten or replaced meanwhile; anything else that is not
 * a 2xx (network error, timeout, 5xx, 429, the address rules) is inconclusive and tried again after a backoff.
 */
@Injectable()
export class CredentialChecker {
  constructor(
    private readonly store: EventStore,
    private readonly vault: Vault,
    private readonly services: ServiceDefinitions,
    private readonly schedule: VerifySchedule,
    private readonly metrics: RefreshMetrics,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly egress: EgressPolicy,
  ) {}

  async check(due: DueCheck): Promise<CheckOutcome> {
    const streamId = connectionStreamId(due.orgId, due.linkName);
    const { state } = await this.store.aggregateStream(streamId, connectionDecider);
    const key = due.userId ?? OWN_CREDENTIAL;
    const current = state.status === 'active' ? state.credentials[key] : undefined;
    if (state.status !== 'active' || current?.credentialRef !== due.credentialRef || current.status !== 'connected') {
      await this.schedule.remove(due.credentialRef);
      return 'gone';
    }
    const stored = await this.vault.getVersioned<StoredCredential>(this.store.dataSource.manager, due.credentialRef, due.orgId);
    if (!stored) {
      await this.schedule.remove(due.credentialRef);
      return 'gone';
    }
    let target: VerificationTarget | null;
    try {
      // The connection's values and those the credential's provider gave (an Ecwid store id in the base URL, say).
      target = verificationTargetOf(await this.serviceOf(due.orgId, { ...state.connection, parameters: { ...state.connection.parameters, ...(current.parameters ?? {}) } }));
    } catch (error) {
      return this.inconclusive(due, error instanceof Error ? error.message : 'service unavailable');
    }
    // No verification call, or a token that expires (the refresh schedule watches those): look again next interval.
    if (!target || (stored.value.kind === 'oauth2' && stored.value.expiresAt !== null)) {
      await this.schedule.checked(due.credentialRef);
      return 'unverifiable';
    }
    let result: VerificationOutcome;
    try {
      result = await verifyCredential(target, stored.value, this.egress, this.settings.tokenTimeoutMs);
    } catch (error) {
      if (error instanceof DomainError) return this.inconclusive(due, error.code);
      throw error;
    }
    if (result.result === 'accepted') {
      await this.schedule.checked(due.credentialRef);
      this.metrics.verified += 1;
      return 'valid';
    }
    if (result.result === 'inconclusive') return this.inconclusive(due, result.reason);
    return this.revoke(due, stored.version, result.status);
  }

  private async inconclusive(due: DueCheck, reason: string): Promise<CheckOutcome> {
    const attempts = due.attempts + 1;
    const delay = Math.min(backoffDelayMs(attempts, null, this.settings), this.settings.verifyIntervalMs);
    await this.schedule.inconclusive(due.credentialRef, attempts, delay, reason);
    this.metrics.verificationInconclusive += 1;
    this.logger.warn({ orgId: due.orgId, linkName: due.linkName, credentialRef: due.credentialRef, reason, attempts }, 'credential verification had no usable answer; it will be tried again');
    return 'inconclusive';
  }

  /** Under the vault row's lock: a credential rewritten or replaced since it was read is not the one that was refused. */
  private async revoke(due: DueCheck, version: number, status: number): Promise<CheckOutcome> {
    let revoked: boolean;
    try {
      const { events } = await connectionCommands.handle(
        this.store,
        { type: 'RecordVerificationFailure', data: { orgId: due.orgId, linkName: due.linkName, userId: due.userId, credentialRef: due.credentialRef, now: new Date().toISOString() } },
        {
          metadata: { orgId: due.orgId, userId: SYSTEM_ACTOR },
          precondition: vaultRowUnchanged({ ...due, version }, 'moved'),
          alsoWrite: (manager) => this.schedule.remove(due.credentialRef, manager),
        },
      );
      revoked = events.length > 0;
    } catch (error) {
      if (!(error instanceof CredentialMoved)) throw error;
      revoked = false;
    }
    if (!revoked) {
      await this.schedule.checked(due.credentialRef);
      return 'gone';
    }
    this.metrics.verificationRevoked += 1;
    this.logger.warn({ orgId: due.orgId, linkName: due.linkName, userId: due.userId, credentialRef: due.credentialRef, status }, 'the service refused a credential at its verification call; the credential is revoked');
    return 'revoked';
  }

  private serviceOf(orgId: string, connection: ConnectionCreated['data']): Promise<ServiceCalls> {
    return this.services.source(orgId, { service: connection.service.linkName, serviceType: connection.service.type, parameters: connection.parameters });
  }

}
