import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { LinkNameSchema, OrgIdSchema, Subjects, UserIdSchema, type RefreshCredentialReply, type RefreshCredentialRequest } from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { Refresher } from '../refresh/refresher';

/** RefreshCredentialRequest as this module accepts it (the contract library declares the type only). */
const RefreshCredentialRequestSchema = z.strictObject({
  orgId: OrgIdSchema,
  linkName: LinkNameSchema,
  userId: UserIdSchema.nullable(),
  seenVersion: z.number().int().min(1).optional(),
}) satisfies z.ZodType<RefreshCredentialRequest>;

/** `plugboard.tokenRefresh.refresh`: the invoke proxy's request after a 401 or an expired token. */
@Controller()
export class RefreshController {
  constructor(private readonly refresher: Refresher) {}

  @MessagePattern(Subjects.tokenRefresh.refresh)
  async refresh(@Payload(new ContractPipe(RefreshCredentialRequestSchema)) request: RefreshCredentialRequest): Promise<RefreshCredentialReply> {
    const result = await this.refresher.refresh({ ...request, trigger: 'on_demand' });
    // An on-demand job waits for the lease and names a credential it just read, so it is never busy or stale.
    const outcome = result.outcome === 'busy' || result.outcome === 'stale' ? 'failed' : result.outcome;
    return { outcome, expiresAt: result.expiresAt };
  }
}
