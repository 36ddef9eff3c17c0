import { Injectable } from '@nestjs/common';
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

/**
 * The refresh counters of this replica, kept in memory. A later issue exposes them on /metrics; until then tests
 * and the bench read them here.
 */
@Injectable()
export class RefreshMetrics {
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
