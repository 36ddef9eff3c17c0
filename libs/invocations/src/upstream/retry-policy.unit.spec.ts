import { retryDelay } from './retry-policy';

describe('retryDelay', () => {
  const on = { retries: 2, baseDelayMs: 100, maxDelayMs: 5_000 };

  it('is off by default', () => {
    expect(retryDelay({ ...on, retries: 0 }, 'GET', 503, {}, 0)).toBeNull();
  });

  it('retries idempotent calls on 429 and 502–504 with growing backoff, a bounded number of times', () => {
    const first = retryDelay(on, 'GET', 503, {}, 0);
    const second = retryDelay(on, 'GET', 429, {}, 1);
    expect(first).toBeGreaterThanOrEqual(50);
    expect(first).toBeLessThanOrEqual(100);
    expect(second).toBeGreaterThanOrEqual(100);
    expect(second).toBeLessThanOrEqual(200);
    expect(retryDelay(on, 'GET', 503, {}, 2)).toBeNull();
  });

  it('never retries a POST or PATCH, nor other statuses', () => {
    expect(retryDelay(on, 'POST', 503, {}, 0)).toBeNull();
    expect(retryDelay(on, 'PATCH', 429, {}, 0)).toBeNull();
    expect(retryDelay(on, 'GET', 500, {}, 0)).toBeNull();
    expect(retryDelay(on, 'GET', 404, {}, 0)).toBeNull();
  });

  it('honours Retry-After in seconds or as a date, and gives up when it asks for too long', () => {
    expect(retryDelay(on, 'GET', 429, { 'retry-after': '2' }, 0)).toBe(2_000);
    const date = new Date(Date.now() + 3_000).toUTCString();
    expect(retryDelay(on, 'PUT', 503, { 'retry-after': date }, 0)).toBeGreaterThan(1_000);
    expect(retryDelay(on, 'GET', 429, { 'retry-after': '60' }, 0)).toBeNull();
  });
});
