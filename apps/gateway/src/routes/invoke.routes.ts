import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Subjects, type Actor, type InvokeResponse } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { CurrentActor, RequiresRole } from '../http/auth';

/** `POST /v1/invoke`: call an API through a connection's link name; the invoke proxy adds the credentials. */
@Controller('v1/invoke')
export class InvokeRoutes {
  constructor(private readonly rpc: RpcClient) {}

  // The bus deadline (rpcDeadlines) covers the API's own timeout twice (a 401, a refresh, a retry) plus a refresh:
  // past it, an invoke proxy that died holding the request answers `timeout` instead of keeping the caller waiting.
  @Post()
  @HttpCode(200)
  @RequiresRole('member')
  invoke(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<InvokeResponse> {
    return this.rpc.request(Subjects.invoke.request, { actor, invoke: body as never });
  }
}
