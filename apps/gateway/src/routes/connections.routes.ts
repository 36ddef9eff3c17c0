import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Principal } from '@plugboard/access';
import { parseOrThrow, RevokeConnectionInputSchema, Subjects, type Actor, type AuthorizeResult, type ConnectionSnippets, type ConnectionView, type Page } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { PLATFORM_CONFIG, publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { CurrentActor, RequiresRole } from '../http/auth';
import { buildSnippets } from '../http/snippets';
import { BROWSER_BINDING, type BrowserBinding } from '../session/browser-binding';

/** `/v1/connections`: the connection app's operations over HTTP. */
@Controller('v1/connections')
export class ConnectionsRoutes {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Inject(BROWSER_BINDING) private readonly browsers: BrowserBinding,
  ) {}

  @Get()
  list(@CurrentActor() actor: Actor, @Query() query: Record<string, unknown>): Promise<Page<ConnectionView>> {
    return this.rpc.request(Subjects.connection.listConnections, { ...query, actor } as never);
  }

  @Post()
  @HttpCode(201)
  @RequiresRole('member')
  create(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<ConnectionView> {
    return this.rpc.request(Subjects.connection.createConnection, { actor, connection: body as never });
  }

  @Get(':linkName')
  get(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<ConnectionView> {
    return this.rpc.request(Subjects.connection.getConnection, { actor, linkName });
  }

  /** Ready-to-paste examples of calling an API through this connection. */
  @Get(':linkName/snippet')
  async snippet(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<ConnectionSnippets> {
    const connection = await this.rpc.request(Subjects.connection.getConnection, { actor, linkName });
    return buildSnippets(connection, {
      publicUrl: publicUrlOf(this.config),
      namespace: this.config.PLUGBOARD_NAMESPACE,
      overNats: Boolean(this.config.NATS_URL),
      userId: actor.userId,
    });
  }

  @Patch(':linkName')
  @RequiresRole('member')
  edit(@CurrentActor() actor: Actor, @Param('linkName') linkName: string, @Body() body: unknown): Promise<ConnectionView> {
    return this.rpc.request(Subjects.connection.editConnection, { actor, linkName, changes: body as never });
  }

  @Post(':linkName/authorize')
  @HttpCode(200)
  @RequiresRole('member')
  authorize(
    @CurrentActor() actor: Actor,
    @Param('linkName') linkName: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AuthorizeResult> {
    // An OAuth flow completes only in the browser that asked for it (the console does; a server hands out connect links).
    const browser = this.browsers.bind(req, res);
    return this.rpc.request(Subjects.connection.authorizeConnection, { actor, linkName, authorization: (body ?? {}) as never, browser });
  }

  @Post(':linkName/revoke')
  @HttpCode(200)
  @RequiresRole('member')
  revoke(@CurrentActor() actor: Actor, @Param('linkName') linkName: string, @Body() body: unknown, @Req() req: Request): Promise<ConnectionView> {
    const { all } = parseOrThrow(RevokeConnectionInputSchema, body ?? {});
    // Whether the caller is an admin is the gateway's to say (an admin may revoke every user's credential of any
    // connection): the API key's principal, as the guard established it.
    const principal = (req as Request & { principal?: Principal }).principal;
    return this.rpc.request(Subjects.connection.revokeConnection, { actor, linkName, all, byAdmin: principal?.role === 'admin' });
  }

  @Delete(':linkName')
  @HttpCode(204)
  @RequiresRole('member')
  async delete(@CurrentActor() actor: Actor, @Param('linkName') linkName: string): Promise<void> {
    await this.rpc.request(Subjects.connection.deleteConnection, { actor, linkName });
  }
}
