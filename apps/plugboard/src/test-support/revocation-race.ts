import { performance } from 'node:perf_hooks';
import type { Seen, Upstream } from './upstream';

/**
 * The two ways a product calls an API through a connection; `call` names the call in the API's log (query `call`).
 * Each resolves to how the call ended: the HTTP status, and Plugboard's error code if any (`409 connection_revoked`).
 */
export interface RaceClient {
  invoke(linkName: string, userId: string, call: string): Promise<string>;
  proxy(linkName: string, userId: string, call: string): Promise<string>;
}

/** How a call through Plugboard ended, for `RaceClient`. */
export async function endOf(response: Response): Promise<string> {
  const text = await response.text();
  if (response.status < 400) return String(response.status);
  try {
    return `${response.status} ${JSON.parse(text).error.code}`;
  } catch {
    return String(response.status);
  }
}

export interface RaceRound {
  linkName: string;
  /** The credential that must stop: the API key the connection was authorized with (sent as X-Api-Key), or its OAuth 2 access token (sent as a bearer token). */
  secret: string;
  /** Revokes, deletes or edits the service, or makes a check fail; resolves when Plugboard has acknowledged it (or shows it to the org). */
  stop(): Promise<void>;
}

export interface RaceOutcome {
  /** Calls that reached the API with the credential before the stop was acknowledged (the race was real). */
  servedBeforeAck: number;
  /** Calls a client began after the acknowledgement. */
  startedAfterAck: number;
  /** Those among them that still reached the API with the stopped credential: must be none. */
  leaked: string[];
  /** How the calls ended, by path and end (0: no answer), before and after the acknowledgement. */
  statuses: Record<string, number>;
}

/**
 * The attack of issue 12: `users` users each call through the connection, alternating POST /v1/invoke and
 * /v1/proxy, as fast as they get answers; their first calls all miss the caches, so loads are in flight when the
 * stop lands `stopAfterMs` into the burst (and, with `afterServed`, once a call has been served). The burst goes on for `afterAckMs` after the acknowledgement, then every
 * user calls once more on each path. Every call carries its own id, so the API's log says which calls carried what.
 */
export async function raceStop(client: RaceClient, upstream: Upstream, round: RaceRound, { users = 150, stopAfterMs = 100, afterAckMs = 1_500, afterServed = false } = {}): Promise<RaceOutcome> {
  const started = new Map<string, number>();
  const statuses: Record<string, number> = {};
  let ackAt = Number.POSITIVE_INFINITY;
  let stopAt = Number.POSITIVE_INFINITY;
  const one = async (path: 'invoke' | 'proxy', user: string, n: number) => {
    const call = `${round.linkName}.${user}.${n}`;
    started.set(call, performance.now());
    const status = await client[path](round.linkName, user, call).catch(() => '0');
    const tally = `${path} ${performance.now() > ackAt ? 'after' : 'before'} ${status}`;
    statuses[tally] = (statuses[tally] ?? 0) + 1;
  };
  const burst = async (user: string) => {
    for (let n = 0; performance.now() < stopAt; n++) await one(n % 2 === 0 ? 'invoke' : 'proxy', user, n);
  };
  const ids = Array.from({ length: users }, (_, i) => `user${i}`);
  const running = Promise.all(ids.map(burst));
  await new Promise((resolve) => setTimeout(resolve, stopAfterMs));
  // `afterServed`: also wait until the API has seen the credential (bounded), so that on a loaded machine the stop
  // still lands once the caches hold it, which is the race this round is for.
  const carries = (s: Seen) => s.headers['x-api-key'] === round.secret || s.headers.authorization === `Bearer ${round.secret}` || s.query.access_token === round.secret;
  for (const deadline = performance.now() + 15_000; afterServed && performance.now() < deadline && !upstream.seen.some(carries); ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  try {
    await round.stop();
  } catch (error) {
    // No acknowledgement: the users stop, and the round fails with the stop's error.
    stopAt = performance.now();
    await running;
    throw error;
  }
  ackAt = performance.now();
  stopAt = ackAt + afterAckMs;
  await running;
  await Promise.all(ids.map(async (user) => Promise.all([one('invoke', user, -1), one('proxy', user, -2)])));

  const carried = upstream.seen.filter((s) => carries(s) && s.query.call?.startsWith(`${round.linkName}.`));
  const afterAck = (call: string) => (started.get(call) ?? 0) > ackAt;
  return {
    servedBeforeAck: carried.filter((s) => !afterAck(s.query.call)).length,
    startedAfterAck: [...started.keys()].filter(afterAck).length,
    leaked: carried.filter((s) => afterAck(s.query.call)).map((s) => s.query.call),
    statuses,
  };
}
