import { NEVER } from 'rxjs';
import { Subjects, type RpcSubject } from '@plugboard/contracts';
import { BUS_MARGIN_MS, REFRESH_LEASE_MS, rpcDeadlines } from './deadlines';
import { RpcClient } from './rpc-client';
import type { BusClient } from './transport';

const allSubjects = Object.values(Subjects).flatMap((group) => Object.values(group)) as RpcSubject[];

describe('bus deadlines', () => {
  // The defaults (10 s for OAuth and verification calls, 30 s for an API), then a slow deployment's.
  for (const timeouts of [
    { invokeMs: 30_000, oauthMs: 10_000, verificationMs: 10_000 },
    { invokeMs: 300_000, oauthMs: 45_000, verificationMs: 20_000 },
  ]) {
    it(`outlast the outbound work each command may do (${JSON.stringify(timeouts)})`, () => {
      const deadlines = rpcDeadlines(timeouts);
      const of = (subject: RpcSubject) => deadlines.of(subject);
      expect(of(Subjects.connection.authorizeConnection)).toBeGreaterThan(Math.max(timeouts.verificationMs, timeouts.oauthMs));
      expect(of(Subjects.connection.completeAuthorization)).toBeGreaterThan(timeouts.oauthMs);
      expect(of(Subjects.tokenRefresh.refresh)).toBeGreaterThan(REFRESH_LEASE_MS + timeouts.oauthMs);
      expect(of(Subjects.invoke.request)).toBeGreaterThan(2 * timeouts.invokeMs + of(Subjects.tokenRefresh.refresh));
      // Every subject gets the margin for its database and the bus, outbound work or not.
      for (const subject of allSubjects) expect(of(subject)).toBeGreaterThanOrEqual(2 * BUS_MARGIN_MS);
      expect(deadlines.longestCommandMs).toBe(of(Subjects.connection.authorizeConnection));
    });
  }

  it('are what the RPC client waits for, per subject', async () => {
    jest.useFakeTimers();
    try {
      const silent = { send: () => NEVER } as unknown as BusClient;
      const client = new RpcClient(silent, rpcDeadlines({ invokeMs: 1_000, oauthMs: 2_000, verificationMs: 3_000 }));
      const outcome = (subject: RpcSubject) => {
        let settled: string | null = null;
        client.request(subject, {} as never).catch((error: { code: string }) => (settled = error.code));
        return () => settled;
      };
      const authorize = outcome(Subjects.connection.authorizeConnection);
      const get = outcome(Subjects.connection.getConnection);
      await jest.advanceTimersByTimeAsync(2 * BUS_MARGIN_MS);
      expect(get()).toBe('timeout');
      expect(authorize()).toBeNull();
      await jest.advanceTimersByTimeAsync(3_000);
      expect(authorize()).toBe('timeout');
    } finally {
      jest.useRealTimers();
    }
  });
});
