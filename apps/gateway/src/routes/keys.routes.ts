import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiKeys } from '@plugboard/access';
import { CreateApiKeyInputSchema, DomainError, ErrorCodes, parseOrThrow, type Actor, type ApiKeyView, type CreatedApiKey } from '@plugboard/contracts';
import { CurrentActor, RequiresRole } from '../http/auth';

/**
 * `/v1/keys`: an admin manages their org's API keys. Keys are the gateway's own concern (it checks them), so these
 * routes read and write `libs/access` directly instead of asking an app over the bus.
 */
@Controller('v1/keys')
@RequiresRole('admin')
export class KeysRoutes {
  constructor(@Inject(ApiKeys) private readonly apiKeys: ApiKeys) {}

  @Get()
  async list(@CurrentActor() actor: Actor): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.apiKeys.list(actor.orgId) };
  }

  @Post()
  @HttpCode(201)
  async create(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<CreatedApiKey> {
    const input = parseOrThrow(CreateApiKeyInputSchema, body ?? {});
    const created = await this.apiKeys.create(actor.orgId, input.role, input.user === undefined ? { actAs: 'any' } : { user: input.user }, input.label);
    return { apiKey: created.view, key: created.key };
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  async revoke(@CurrentActor() actor: Actor, @Param('keyId') keyId: string): Promise<ApiKeyView> {
    const revoked = await this.apiKeys.revoke(actor.orgId, keyId);
    if (!revoked) throw new DomainError(ErrorCodes.notFound, `Your org has no API key with the id ${keyId.slice(0, 64)}.`);
    return revoked;
  }
}
