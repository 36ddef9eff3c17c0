/**
 * A place in the log as readers see it: the writing transaction's id, then the global position. Reading in this
 * order, and never past the oldest transaction still running, is what keeps late commits from being skipped.
 */
export interface LogPosition {
  transactionId: string;
  position: number;
}

export const START: LogPosition = { transactionId: '0', position: 0 };

/** Orders two places in the log as readers meet them. */
export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (byTransaction !== 0n) return byTransaction < 0n ? -1 : 1;
  return a.position - b.position;
}
