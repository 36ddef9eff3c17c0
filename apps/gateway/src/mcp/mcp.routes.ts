import { Controller, Delete, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiKeys } from '@plugboard/access';
import { DomainError, ErrorCodes, HTTP_STATUS, type ErrorBody } from '@plugboard/contracts';
import { RpcClient } from '@plugboard/messaging';
import { EgressPolicy } from '@plugboard/outbound';
import { LOGGER, PLATFORM_CONFIG, publicUrlOf, requestIdOf, type PlatformConfig } from '@plugboard/runtime';
import { Public } from '../http/auth';
import { McpAuthenticator } from './mcp-auth';
import type { McpCaller } from './mcp-tools';
import { protectedResourceMetadataUrl } from './protected-resource.routes';

/**
 * The MCP SDK and the tools, loaded on the first MCP request: a gateway no agent talks to never holds them (about 10 MB
 * of RSS and a tenth of the start's CPU).
 */
let mcp: Promise<[typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'), typeof import('./mcp-tools')]> | undefined;
const loadMcp = () => (mcp ??= Promise.all([import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('./mcp-tools')]));

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP, stateless (a server and a transport per request, so any
 * replica answers any request; no session to keep). Authenticates by itself (see McpAuthenticator), so that a
 * refusal is the 401 with `WWW-Authenticate: Bearer resource_metadata=…` MCP clients start their sign-in from.
 */
@Controller('mcp')
@Public()
export class McpRoutes {
  private readonly authenticator: McpAuthenticator;
  private readonly publicUrl: string;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(ApiKeys) apiKeys: ApiKeys,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    egress: EgressPolicy,
  ) {
    this.publicUrl = publicUrlOf(config);
    const oidc = config.PLUGBOARD_OPERATOR_OIDC;
    this.authenticator = new McpAuthenticator(apiKeys, `${this.publicUrl}/mcp`, oidc ? { settings: oidc, egress } : null);
  }

  @Post()
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    const caller = await this.authenticated(req, res);
    if (!caller) return;
    const reqId = requestIdOf(req);
    const [{ StreamableHTTPServerTransport }, { buildMcpServer }] = await loadMcp();
    const server = buildMcpServer(
      { ...caller, actor: { ...caller.actor, correlationId: reqId } },
      { rpc: this.rpc, publicUrl: this.publicUrl, version: process.env.npm_package_version ?? '0.1.0', onUnexpected: (err) => this.logger.error({ err, reqId }, 'MCP tool failed') },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      this.logger.error({ err, reqId }, 'MCP request failed');
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Something went wrong on our side. It has been logged.' }, id: null });
    }
  }

  /** No server-sent stream and no session to end: a stateless server answers POST only (the spec allows 405). */
  @Get()
  @Delete()
  async other(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!(await this.authenticated(req, res))) return;
    res.status(405).set('allow', 'POST').json({ error: { code: ErrorCodes.notFound, message: 'This MCP endpoint is stateless: send every message as a POST.' } });
  }

  /** The caller, or null once the refusal has been answered. */
  private async authenticated(req: Request, res: Response): Promise<McpCaller | null> {
    try {
      return await this.authenticator.caller(req.headers);
    } catch (error) {
      const body: ErrorBody = error instanceof DomainError ? error.toBody() : { code: ErrorCodes.internal, message: 'Something went wrong on our side. It has been logged.' };
      if (!(error instanceof DomainError)) this.logger.error({ err: error, reqId: requestIdOf(req) }, 'MCP authentication failed');
      if (body.code === ErrorCodes.unauthenticated) {
        const invalid = req.headers.authorization ? 'error="invalid_token", ' : '';
        res.set('www-authenticate', `Bearer ${invalid}resource_metadata="${protectedResourceMetadataUrl(this.publicUrl)}"`);
      }
      res.status(HTTP_STATUS[body.code]).json({ error: body });
      return null;
    }
  }
}
