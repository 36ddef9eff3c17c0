import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** How long an answer is kept: a repeat within this time gets it back; after it, the key may be used afresh. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** Expired rows are deleted at most this often, by whichever request comes along. */
const PURGE_EVERY_MS = 10 * 60_000;

/** The answer kept for a key: its status and its JSON body (none for a 204). */
export interface StoredAnswer {
  status: number;
  body: string | null;
}

/** What a request finds when it presents its key. */
export type Claim =
  | { outcome: 'claimed' }
  | { outcome: 'replay'; answer: StoredAnswer }
  | { outcome: 'reused' }
  | { outcome: 'in_progress' };

/** One request presenting one key: the org it acts in, the key, and the hash of what it asks. */
export interface KeyedRequest {
  orgId: string;
  key: string;
  requestHash: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The PostgreSQL table of idempotency keys: claim one, then record its answer or release it. */
export class IdempotencyStore {
  private lastPurge = 0;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes the key for this request, in one statement so that two concurrent requests cannot both take it. A key
   * already taken gives its kept answer (same request), `in_progress` (same request, still running), or `reused`.
   * An expired row is taken over, and so is one left in progress past `lockMs` by a gateway that died.
   */
  async claim(request: KeyedRequest, lockMs: number): Promise<Claim> {
    this.purgeNowAndThen();
    const params = [request.orgId, sha256(request.key), request.requestHash, lockMs, IDEMPOTENCY_TTL_MS];
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimed: unknown[] = await this.dataSource.query(
        `INSERT INTO idempotency_keys AS k (org_id, key_hash, request_hash, state, locked_until, expires_at)
         VALUES ($1, $2, $3, 'in_progress', now() + $4 * interval '1 millisecond', now() + $5 * interval '1 millisecond')
         ON CONFLICT (org_id, key_hash) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'in_progress', status = NULL, body = NULL,
               locked_until = EXCLUDED.locked_until, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE k.expires_at <= now() OR (k.state = 'in_progress' AND k.locked_until <= now() AND k.request_hash = EXCLUDED.request_hash)
         RETURNING 1`,
        params,
      );
      if (claimed.length > 0) return { outcome: 'claimed' };
      const [row]: { request_hash: string; state: string; status: number | null; body: string | null }[] = await this.dataSource.query(
        `SELECT request_hash, state, status, body FROM idempotency_keys WHERE org_id = $1 AND key_hash = $2`,
        params.slice(0, 2),
      );
      // Released between the two statements: try to take it again.
      if (!row) continue;
      if (row.request_hash !== request.requestHash) return { outcome: 'reused' };
      if (row.state === 'in_progress') return { outcome: 'in_progress' };
      return { outcome: 'replay', answer: { status: row.status as number, body: row.body } };
    }
    return { outcome: 'in_progress' };
  }

  /** Keeps the answer of a request that claimed its key. */
  async complete(request: KeyedRequest, answer: StoredAnswer): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_keys SET state = 'done', status = $4, body = $5, locked_until = NULL
        WHERE org_id = $1 AND key_hash = $2 AND request_hash = $3 AND state = 'in_progress'`,
      [request.orgId, sha256(request.key), request.requestHash, answer.status, answer.body],
    );
  }

  /** Gives the key back, keeping nothing: a repeat runs the command again. */
  async release(request: KeyedRequest): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_keys WHERE org_id = $1 AND key_hash = $2 AND request_hash = $3 AND state = 'in_progress'`, [
      request.orgId,
      sha256(request.key),
      request.requestHash,
    ]);
  }

  private purgeNowAndThen(): void {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    // Best effort, off the request's path: an expired row left behind is taken over by the next claim anyway.
    void this.dataSource.query(`DELETE FROM idempotency_keys WHERE expires_at <= now()`).catch(() => undefined);
  }
}
