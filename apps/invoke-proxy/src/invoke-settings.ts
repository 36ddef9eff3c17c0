import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { safeLookup } from '@plugboard/outbound';
import { DestinationPolicy } from './safety/destination';
import type { RetrySettings } from './upstream/retry-policy';

/** What every outbound call obeys, read once from the configuration. */
@Injectable()
export class InvokeSettings {
  /** Hosts or addresses exempt from the private-address block (PLUGBOARD_INVOKE_ALLOW_HOSTS). */
  readonly allowedLocal: string[];
  readonly lookup: ReturnType<typeof safeLookup>;
  readonly destinations: DestinationPolicy;
  /** Silence from the API longer than this ends the call. */
  readonly timeoutMs: number;
  /** The most a streamed request or answer may carry through /v1/proxy. */
  readonly maxStreamBytes: number;
  readonly retry: RetrySettings;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    this.allowedLocal = config.PLUGBOARD_INVOKE_ALLOW_HOSTS;
    this.lookup = safeLookup(this.allowedLocal);
    this.destinations = new DestinationPolicy(this.allowedLocal);
    this.timeoutMs = config.PLUGBOARD_INVOKE_TIMEOUT_MS;
    this.maxStreamBytes = config.PLUGBOARD_PROXY_MAX_BYTES;
    this.retry = { retries: config.PLUGBOARD_INVOKE_RETRIES, baseDelayMs: config.PLUGBOARD_INVOKE_RETRY_BASE_MS, maxDelayMs: config.PLUGBOARD_INVOKE_RETRY_MAX_MS };
  }
}
