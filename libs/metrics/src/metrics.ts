import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric of Plugboard, in one registry per process (embedded mode: one for every app; distributed:
 * one per app). Labels are kept to small, fixed sets (route templates, subjects, outcomes): never link names or
 * users, whose number has no bound.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'plugboard_' });

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequests = new Histogram({
  name: 'plugboard_http_request_duration_seconds',
  help: 'REST requests answered by the gateway, by route template and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const natsRequests = new Histogram({
  name: 'plugboard_nats_request_duration_seconds',
  help: 'Round trips of requests to the apps over the bus, by subject and outcome (ok or an error code).',
  labelNames: ['subject', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const invocations = new Histogram({
  name: 'plugboard_invoke_duration_seconds',
  help: 'Calls through connections, by entry (invoke, proxy or mcp) and outcome (the API status class, or an error code).',
  labelNames: ['entry', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const projectionLag = new Gauge({
  name: 'plugboard_projection_lag_seconds',
  help: 'Time from an event being recorded to a subscription having handled it, at its last batch.',
  labelNames: ['subscription'] as const,
  registers: [registry],
});

export const projectionEvents = new Counter({
  name: 'plugboard_projection_events_total',
  help: 'Events handled by each subscription.',
  labelNames: ['subscription'] as const,
  registers: [registry],
});

type Reading = { labels: Record<string, string>; value: number }[];
const sources = new Map<string, Set<() => Reading>>();

/**
 * A tally kept elsewhere (an app's own counters), read when Prometheus scrapes; several instances of one app in a
 * process (embedded tests) add up. Returns what stops the reading.
 */
export function observe(kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], read: () => Reading): () => void {
  let readers = sources.get(name);
  if (!readers) {
    const all = new Set<() => Reading>();
    sources.set(name, (readers = all));
    const collect = function (this: Counter | Gauge) {
      this.reset();
      for (const reader of all) for (const { labels, value } of reader()) this.inc(labels, value);
    };
    if (kind === 'counter') new Counter({ name, help, labelNames, registers: [registry], collect });
    else new Gauge({ name, help, labelNames, registers: [registry], collect });
  }
  readers.add(read);
  return () => readers.delete(read);
}

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** The outcome label of a call: `2xx`…`5xx`, or the error code that ended it. */
export function outcomeOf(status: number | null, errorCode: string | null): string {
  return status === null ? (errorCode ?? 'internal_error') : (STATUS_CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`);
}
