import { OAuth2Error } from '@plugboard/oauth2';
import { backoffDelayMs, classify, dueAt, failureCode, jitterFraction } from './refresh-policy';
import { loadRefreshSettings } from './refresh-settings';

const policy = { marginMs: 300_000, jitterMs: 60_000 };
const hour = 3_600_000;

describe('when a token is due', () => {
  const expiresAt = new Date('2026-11-23T12:00:00.000Z');
  const issuedAt = new Date(expiresAt.getTime() - hour);

  it('is the margin before expiry, plus a jitter of up to the jitter setting', () => {
    const due = dueAt('00000000-0000-4000-8000-000000000001', expiresAt, issuedAt, policy);
    const lead = expiresAt.getTime() - due.getTime();
    expect(lead).toBeGreaterThanOrEqual(300_000);
    expect(lead).toBeLessThanOrEqual(360_000);
  });

  it('is the same for the same credential and expiry (a rebuilt schedule agrees), and spread across credentials', () => {
    const ref = '00000000-0000-4000-8000-000000000002';
    expect(dueAt(ref, expiresAt, issuedAt, policy)).toEqual(dueAt(ref, expiresAt, issuedAt, policy));
    const fractions = Array.from({ length: 1000 }, (_, i) => jitterFraction(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, expiresAt));
    expect(Math.min(...fractions)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...fractions)).toBeLessThan(1);
    // Roughly uniform: each tenth of the range holds some.
    for (let decile = 0; decile < 10; decile++) expect(fractions.filter((f) => Math.floor(f * 10) === decile).length).toBeGreaterThan(50);
  });

  it('for a short-lived token is at most a quarter (plus an eighth of jitter) of its lifetime early', () => {
    const shortIssued = new Date(expiresAt.getTime() - 60_000);
    const lead = expiresAt.getTime() - dueAt('00000000-0000-4000-8000-000000000003', expiresAt, shortIssued, policy).getTime();
    expect(lead).toBeGreaterThanOrEqual(15_000);
    expect(lead).toBeLessThanOrEqual(22_500);
  });
});

describe('backoff after a transient failure', () => {
  const settings = { backoffBaseMs: 5_000, backoffMaxMs: 300_000 };

  it('doubles per attempt, with half of it random, up to the maximum', () => {
    expect(backoffDelayMs(1, null, settings, () => 0)).toBe(2_500);
    expect(backoffDelayMs(1, null, settings, () => 1)).toBe(5_000);
    expect(backoffDelayMs(3, null, settings, () => 1)).toBe(20_000);
    expect(backoffDelayMs(30, null, settings, () => 1)).toBe(300_000);
  });

  it('honours Retry-After when it asks for longer', () => {
    expect(backoffDelayMs(1, 120_000, settings, () => 0)).toBe(120_000);
    expect(backoffDelayMs(5, 1_000, settings, () => 1)).toBe(80_000);
  });
});

describe('failure classes', () => {
  const error = (details: ConstructorParameters<typeof OAuth2Error>[0]) => new OAuth2Error(details);

  it('invalid_grant and a revoked client are definitive; 5xx, 429 and network errors transient; the rest protocol', () => {
    expect(classify(error({ kind: 'invalid_grant', operation: 'refresh', error: 'invalid_grant', status: 400 }))).toBe('definitive');
    expect(classify(error({ kind: 'invalid_client', operation: 'refresh', error: 'invalid_client', status: 401 }))).toBe('definitive');
    expect(classify(error({ kind: 'transient', operation: 'refresh', status: 503 }))).toBe('transient');
    expect(classify(error({ kind: 'transient', operation: 'refresh', status: 429, retryAfterMs: 7_000 }))).toBe('transient');
    expect(classify(error({ kind: 'transient', operation: 'refresh', code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classify(error({ kind: 'protocol', operation: 'refresh', error: 'invalid_scope', status: 400 }))).toBe('protocol');
  });

  it('records only a short code: the provider’s error, the HTTP status, timeout or network', () => {
    expect(failureCode(error({ kind: 'invalid_grant', operation: 'refresh', error: 'invalid_grant', status: 400 }))).toBe('invalid_grant');
    expect(failureCode(error({ kind: 'transient', operation: 'refresh', status: 502 }))).toBe('http_502');
    expect(failureCode(error({ kind: 'transient', operation: 'refresh', code: 'TIMEOUT' }))).toBe('timeout');
    expect(failureCode(error({ kind: 'transient', operation: 'refresh', code: 'ECONNRESET' }))).toBe('network');
    // A provider that puts prose (or worse) in `error` gets its status recorded instead.
    expect(failureCode(error({ kind: 'protocol', operation: 'refresh', error: 'bad token abc.def ghi', status: 400 }))).toBe('http_400');
  });
});

describe('refresh settings', () => {
  it('have defaults, read PLUGBOARD_REFRESH_* and let overrides win', () => {
    expect(loadRefreshSettings({})).toMatchObject({ marginMs: 300_000, jitterMs: 60_000, leaseTtlMs: 30_000, intervalMs: 1_000, schedulerEnabled: true, tokenTimeoutMs: 10_000 });
    const settings = loadRefreshSettings({ PLUGBOARD_REFRESH_MARGIN_SECONDS: '60', PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: '6', PLUGBOARD_REFRESH_SCHEDULER: 'off' }, { concurrency: 3 });
    expect(settings).toMatchObject({ marginMs: 60_000, leaseTtlMs: 6_000, schedulerEnabled: false, concurrency: 3, tokenTimeoutMs: 2_000 });
  });

  it('name a malformed variable without echoing its value', () => {
    expect(() => loadRefreshSettings({ PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: 'forever-s3cret' })).toThrow(/PLUGBOARD_REFRESH_LEASE_TTL_SECONDS/);
    expect(() => loadRefreshSettings({ PLUGBOARD_REFRESH_LEASE_TTL_SECONDS: 'forever-s3cret' })).not.toThrow(/s3cret/);
  });
});
