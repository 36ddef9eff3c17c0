import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { observe } from '@plugboard/metrics';
import type { FailureClass } from './refresh-policy';

export interface RefreshMetricsSnapshot {
  refreshed: number;
  alreadyFresh: number;
  coalesced: number;
  failed: Record<FailureClass, number>;
  leaseContention: number;
  /** Credentials on the schedule whose token has expired (as of the scheduler's last look). */
  overdue: number;
  /** A compare-and-swap lost to another writer: should stay 0, since the lease keeps writers apart. */
  casConflicts: number;
  /** Scheduled verification calls of credentials without expiry: accepted, revoked on 401/403, without a usable answer. */
  verified: number;
  verificationRevoked: number;
  verificationInconclusive: number;
}

/** The refresh counters of this replica: tests and the bench read them here, Prometheus on /metrics. */
@Injectable()
export class RefreshMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly stops: (() => void)[] = [];

  refreshed = 0;
  alreadyFresh = 0;
  coalesced = 0;
  leaseContention = 0;
  overdue = 0;
  casConflicts = 0;
  verified = 0;
  verificationRevoked = 0;
  verificationInconclusive = 0;
  readonly failed: Record<FailureClass, number> = { transient: 0, definitive: 0, protocol: 0, configuration: 0 };

  onModuleInit(): void {
    const one = (value: number, labels: Record<string, string> = {}) => [{ labels, value }];
    this.stops.push(
      observe('counter', 'plugboard_refresh_total', 'Refresh requests by outcome: refreshed, already fresh (another worker had), coalesced in process.', ['outcome'], () => [
        ...one(this.refreshed, { outcome: 'refreshed' }),
        ...one(this.alreadyFresh, { outcome: 'already_fresh' }),
        ...one(this.coalesced, { outcome: 'coalesced' }),
      ]),
      observe('counter', 'plugboard_refresh_failures_total', 'Failed refreshes by class.', ['class'], () => Object.entries(this.failed).map(([kind, value]) => ({ labels: { class: kind }, value }))),
      observe('counter', 'plugboard_refresh_lease_contention_total', 'Refreshes that found the credential leased by another worker.', [], () => one(this.leaseContention)),
      observe('counter', 'plugboard_refresh_cas_conflicts_total', 'Token writes that lost a compare-and-swap (should stay 0).', [], () => one(this.casConflicts)),
      observe('gauge', 'plugboard_refresh_overdue_credentials', 'Credentials whose token has expired, at the scheduler’s last look.', [], () => one(this.overdue)),
      observe('counter', 'plugboard_verifications_total', 'Scheduled verification calls by outcome.', ['outcome'], () => [
        ...one(this.verified, { outcome: 'accepted' }),
        ...one(this.verificationRevoked, { outcome: 'revoked' }),
        ...one(this.verificationInconclusive, { outcome: 'inconclusive' }),
      ]),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stops) stop();
  }

  fail(kind: FailureClass): void {
    this.failed[kind] += 1;
  }

  snapshot(): RefreshMetricsSnapshot {
    return {
      refreshed: this.refreshed,
      alreadyFresh: this.alreadyFresh,
      coalesced: this.coalesced,
      failed: { ...this.failed },
      leaseContention: this.leaseContention,
      overdue: this.overdue,
      casConflicts: this.casConflicts,
      verified: this.verified,
      verificationRevoked: this.verificationRevoked,
      verificationInconclusive: this.verificationInconclusive,
    };
  }
}
