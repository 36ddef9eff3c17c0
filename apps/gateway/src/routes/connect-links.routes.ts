import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  AuthorizeConnectLinkInputSchema,
  CreateConnectLinkInputSchema,
  parseOrThrow,
  Subjects,
  type Actor,
  type ConnectLinkAuthorizeResult,
  type ConnectLinkView,
  type CreatedConnectLink,
} from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { PLATFORM_CONFIG, publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { CurrentActor, Public, RequiresRole } from '../http/auth';
import { BROWSER_BINDING, type BrowserBinding } from '../session/browser-binding';

/**
 * `/v1/connect-links`: a caller with a key or a session makes a link; whoever holds it reads and completes it with
 * no key. The answers hold links and authorize URLs: never cached.
 */
@Controller('v1/connect-links')
export class ConnectLinksRoutes {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(BROWSER_BINDING) private readonly browsers: BrowserBinding,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @RequiresRole('member')
  create(@CurrentActor() actor: Actor, @Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<CreatedConnectLink> {
    res.setHeader('cache-control', 'no-store');
    const input = parseOrThrow(CreateConnectLinkInputSchema, body ?? {});
    return this.rpc.request(Subjects.connection.createConnectLink, { actor, link: { ...input, user: input.user ?? actor.userId }, publicUrl: publicUrlOf(this.config) });
  }

  @Get(':token')
  @Public()
  describe(@Param('token') token: string, @Res({ passthrough: true }) res: Response): Promise<ConnectLinkView> {
    noStore(res);
    return this.rpc.request(Subjects.connection.describeConnectLink, { token });
  }

  @Post(':token/authorize')
  @HttpCode(200)
  @Public()
  authorize(@Param('token') token: string, @Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConnectLinkAuthorizeResult> {
    noStore(res);
    const authorization = parseOrThrow(AuthorizeConnectLinkInputSchema, body ?? {});
    const correlationId = String((req as { id?: unknown }).id ?? '') || undefined;
    return this.rpc.request(Subjects.connection.authorizeConnectLink, { token, authorization, browser: this.browsers.bind(req, res), ...(correlationId ? { correlationId } : {}) });
  }
}

/** A link's page and answers are its holder's alone: no cache keeps them, no Referer carries the token on. */
function noStore(res: Response): void {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('referrer-policy', 'no-referrer');
}
