import { Subjects, type RpcSubject } from '@plugboard/contracts';

/** How long each kind of outbound call may take: the egress policy's timeouts (see @plugboard/outbound). */
export interface OutboundTimeouts {
  /** One call to an API through a connection (PLUGBOARD_INVOKE_TIMEOUT_MS). */
  invokeMs: number;
  /** One OAuth 2 token or OAuth 1.0a request-token/access-token call. */
  oauthMs: number;
  /** One verification call of posted API-key or Basic credentials. */
  verificationMs: number;
}

/**
 * What every request gets besides its outbound calls: its database work and the trip over the bus both ways, each
 * within one margin. A request with no outbound call waits this twice over.
 */
export const BUS_MARGIN_MS = 5_000;

/** token-refresh's default lease on a credential: an on-demand refresh may wait that long for another replica's. */
export const REFRESH_LEASE_MS = 30_000;

/** How long a caller waits for the answer to each subject. */
export interface RpcDeadlines {
  of(subject: RpcSubject): number;
  /** The longest deadline of any command people send through the gateway (invoke excluded): how long one may run. */
  readonly longestCommandMs: number;
}

/**
 * Each subject's deadline, derived from the outbound timeouts in this one place: longer than the outbound work its
 * handler may do, so that a command that succeeded is never answered `timeout`. Past its deadline, the app that
 * holds a request has died or hung, which is what `timeout` then says.
 */
export function rpcDeadlines(timeouts: OutboundTimeouts): RpcDeadlines {
  const base = 2 * BUS_MARGIN_MS;
  const refreshMs = base + REFRESH_LEASE_MS + timeouts.oauthMs;
  const deadlines: Partial<Record<RpcSubject, number>> = {
    // API key and Basic: one verification call; OAuth 2 client credentials: one token call; OAuth 1.0a: a request token.
    [Subjects.connection.authorizeConnection]: base + Math.max(timeouts.verificationMs, timeouts.oauthMs),
    // The code (or verifier) exchanged for tokens: one token call.
    [Subjects.connection.completeAuthorization]: base + timeouts.oauthMs,
    [Subjects.tokenRefresh.refresh]: refreshMs,
    // The API twice (a 401, a refresh, the retry) and the refresh between them.
    [Subjects.invoke.request]: base + 2 * timeouts.invokeMs + refreshMs,
  };
  const commands = Object.entries(deadlines).filter(([subject]) => subject !== Subjects.invoke.request && subject !== Subjects.tokenRefresh.refresh);
  return {
    of: (subject) => deadlines[subject] ?? base,
    longestCommandMs: Math.max(base, ...commands.map(([, ms]) => ms as number)),
  };
}

/** The deadlines of a process, provided by the platform module from its egress policy's timeouts. */
export const RPC_DEADLINES = Symbol('RPC_DEADLINES');
