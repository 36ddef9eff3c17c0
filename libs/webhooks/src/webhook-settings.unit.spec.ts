import { EgressPolicy, parseRetryAfter } from '@plugboard/outbound';
import type { PlatformConfig } from '@plugboard/runtime';
import { retryDelayMs, webhookSettings, webhookUrlProblem } from './webhook-settings';

describe('webhook retry and URL rules', () => {
  const settings = { retryBaseMs: 1_000, retryMaxMs: 60_000 };

  it('doubles the wait per attempt, within ±20 %, up to the cap', () => {
    expect(retryDelayMs(1, settings, null, 0.5)).toBe(1_000);
    expect(retryDelayMs(4, settings, null, 0.5)).toBe(8_000);
    expect(retryDelayMs(4, settings, null, 0)).toBe(6_400);
    expect(retryDelayMs(4, settings, null, 1)).toBe(9_600);
    expect(retryDelayMs(30, settings, null, 1)).toBe(60_000);
  });

  it('waits as long as Retry-After asks when that is longer, never past the cap', () => {
    expect(retryDelayMs(1, settings, 5_000, 0.5)).toBe(5_000);
    expect(retryDelayMs(4, settings, 5_000, 0.5)).toBe(8_000);
    expect(retryDelayMs(1, settings, 3_600_000, 0.5)).toBe(60_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.UTC(2026, 0, 1, 0, 1)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });

  it('takes https to public hosts; plain http and private addresses only where the operator allows', () => {
    const rules = { egress: EgressPolicy.fromConfig({ PLUGBOARD_INVOKE_ALLOW_HOSTS: ['127.0.0.1'], PLUGBOARD_INVOKE_TIMEOUT_MS: 1000, PLUGBOARD_WEBHOOK_TIMEOUT_MS: 1000 }) };
    expect(webhookUrlProblem('https://hooks.example.com/a', rules)).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:8080/a', rules)).toBeNull();
    expect(webhookUrlProblem('http://hooks.example.com/a', rules)).toMatch(/must be https/);
    expect(webhookUrlProblem('https://192.168.1.10/a', rules)).toMatch(/private/);
    expect(webhookUrlProblem('https://[fe80::1]/a', rules)).toMatch(/private/);
    expect(webhookUrlProblem('https://169.254.169.254/latest', rules)).toMatch(/private/);
  });

  it('keeps a claimed delivery longer than the attempt the egress policy times out', () => {
    const config = { PLUGBOARD_WEBHOOK_TIMEOUT_MS: 1_000, PLUGBOARD_WEBHOOK_RETRY_BASE_MS: 1_000, PLUGBOARD_WEBHOOK_RETRY_MAX_MS: 60_000 } as PlatformConfig;
    const egress = new EgressPolicy({ allowHosts: [], timeouts: { invokeMs: 1_000, webhookMs: 30_000, oauthMs: 1_000, verificationMs: 1_000, signInMs: 1_000 } });
    const settings = webhookSettings(config, egress);
    expect(settings.timeoutMs).toBe(30_000);
    expect(settings.claimMs).toBeGreaterThan(settings.timeoutMs);
  });
});
