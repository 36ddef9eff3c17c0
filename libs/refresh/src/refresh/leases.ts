import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { EventStore } from '@plugboard/event-store';
import { RefreshMetrics } from './refresh-metrics';
import { REFRESH_SETTINGS, type RefreshSettings } from './refresh-settings';

export interface Lease {
  holder: string;
  release(): Promise<void>;
}

/** Names this process in `refresh_leases.holder`, for whoever looks at a stuck lease. */
const REPLICA_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One refresh per credential at a time, across replicas: a row per credential in `refresh_leases`, taken when
 * absent or expired (a holder that died is replaced once its lease runs out) and deleted on release.
 */
@Injectable()
export class Leases {
  constructor(
    private readonly store: EventStore,
    private readonly metrics: RefreshMetrics,
    @Inject(REFRESH_SETTINGS) private readonly settings: RefreshSettings,
  ) {}

  /** The lease, or null when another holder kept it for `waitMs` (0: do not wait). */
  async acquire(credentialRef: string, waitMs: number): Promise<Lease | null> {
    const holder = `${REPLICA_ID}:${randomBytes(4).toString('hex')}`;
    const deadline = Date.now() + waitMs;
    let contended = false;
    for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
      const rows: unknown[] = await this.store.dataSource.query(
        `INSERT INTO refresh_leases (credential_ref, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (credential_ref) DO UPDATE SET holder = excluded.holder, acquired_at = now(), expires_at = excluded.expires_at
          WHERE refresh_leases.expires_at < now()
         RETURNING holder`,
        [credentialRef, holder, this.settings.leaseTtlMs],
      );
      if (rows.length === 1) return { holder, release: () => this.release(credentialRef, holder) };
      if (!contended) {
        contended = true;
        this.metrics.leaseContention += 1;
      }
      if (Date.now() + pause > deadline) return null;
      await sleep(pause);
    }
  }

  private async release(credentialRef: string, holder: string): Promise<void> {
    // Only our own: if the lease ran out and someone else took it, theirs stays.
    await this.store.dataSource.query(`DELETE FROM refresh_leases WHERE credential_ref = $1 AND holder = $2`, [credentialRef, holder]);
  }
}
