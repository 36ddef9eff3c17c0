import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { Subjects, type Actor, type InvokeResponse } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { CurrentActor, RequiresRole } from '../http/auth';

/** Time for a refresh lease held by a replica that died to run out (the refresh default), and a margin. */
const REFRESH_ALLOWANCE_MS = 40_000;

/** `POST /v1/invoke`: call an API through a connection's link name; the invoke proxy adds the credentials. */
@Controller('v1/invoke')
export class InvokeRoutes {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  // The deadline covers the API's own timeout twice (a 401, a refresh, a retry) plus a refresh lease: past it, an
  // invoke proxy that died holding the request answers `timeout` instead of keeping the caller waiting.
  @Post()
  @HttpCode(200)
  @RequiresRole('member')
  invoke(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<InvokeResponse> {
    return this.rpc.request(Subjects.invoke.request, { actor, invoke: body as never }, { timeoutMs: 2 * this.config.PLUGBOARD_INVOKE_TIMEOUT_MS + REFRESH_ALLOWANCE_MS });
  }
}
