import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Agent } from 'undici';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { EgressPolicy } from '@plugboard/outbound';
import { DestinationPolicy } from './safety/destination';
import type { RetrySettings } from './upstream/retry-policy';

/** What every outbound call obeys, read once from the configuration. */
@Injectable()
export class InvokeSettings implements OnModuleDestroy {
  /** The process's egress policy: address rules (PLUGBOARD_INVOKE_ALLOW_HOSTS), the redirect rule (never), timeouts. */
  readonly egress: EgressPolicy;
  readonly destinations: DestinationPolicy;
  /** Silence from the API longer than this ends the call. */
  readonly timeoutMs: number;
  /** The most a streamed request or answer may carry through /v1/proxy. */
  readonly maxStreamBytes: number;
  readonly retry: RetrySettings;
  /**
   * The pooled keep-alive connections to the APIs (undici: a call costs less CPU than with node:http's client). Its
   * sockets check their address as they connect, under the egress policy (private addresses refused).
   */
  readonly dispatcher: Agent;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig, egress: EgressPolicy) {
    this.egress = egress;
    this.destinations = new DestinationPolicy(this.egress);
    this.timeoutMs = this.egress.timeouts.invokeMs;
    this.maxStreamBytes = config.PLUGBOARD_PROXY_MAX_BYTES;
    this.dispatcher = egress.poolFor(this.timeoutMs);
    this.retry = { retries: config.PLUGBOARD_INVOKE_RETRIES, baseDelayMs: config.PLUGBOARD_INVOKE_RETRY_BASE_MS, maxDelayMs: config.PLUGBOARD_INVOKE_RETRY_MAX_MS };
  }

  async onModuleDestroy(): Promise<void> {
    await this.dispatcher.close();
  }
}
