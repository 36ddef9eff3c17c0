import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthorizeConnectLinkRequestSchema,
  CONNECT_LINK_DEFAULT_SECONDS,
  CreateConnectLinkRequestSchema,
  DescribeConnectLinkRequestSchema,
  DomainError,
  ErrorCodes,
  Subjects,
  type AuthorizeConnectLinkRequest,
  type ConnectLinkAuthorizeResult,
  type ConnectLinkView,
  type CreateConnectLinkRequest,
  type CreatedConnectLink,
  type DescribeConnectLinkRequest,
} from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { PLATFORM_CONFIG, publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { ConnectionAuthorizer } from '../flows/connection-authorizer';
import { ConnectLinks } from '../flows/connect-links';
import { ConnectionReader } from '../read-models/connection.reader';
import { ServiceLookup } from '../read-models/service.lookup';

/** The returnUrl with the outcome added, as the OAuth callback does it. */
function withOutcome(returnUrl: string | null, linkName: string): string | null {
  if (!returnUrl) return null;
  const back = new URL(returnUrl);
  back.searchParams.set('plugboard_status', 'connected');
  back.searchParams.set('connection', linkName);
  return back.toString();
}

/**
 * Connect links: made by a caller with a key or a session (`createConnectLink`), then read and completed by whoever
 * holds the link, with no key (`describeConnectLink`, `authorizeConnectLink`). The link is the capability, and it is
 * narrow: one org, one connection, one user's credential, once.
 */
@Controller()
export class ConnectLinkHandler {
  private readonly publicUrl: string;

  constructor(
    private readonly links: ConnectLinks,
    private readonly authorizer: ConnectionAuthorizer,
    private readonly reader: ConnectionReader,
    private readonly services: ServiceLookup,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.publicUrl = publicUrlOf(config);
  }

  @MessagePattern(Subjects.connection.createConnectLink)
  async create(@Payload(new ContractPipe(CreateConnectLinkRequestSchema)) request: CreateConnectLinkRequest): Promise<CreatedConnectLink> {
    const { actor, link } = request;
    // A person (key or session) acts as themselves only, and a link writes the named user's credential.
    if (!actor.byProduct && link.user !== actor.userId) {
      throw new DomainError(ErrorCodes.userMismatch, `You act as "${actor.userId}" only: you may make connect links for yourself, not for "${link.user}" (only a product's key, actAs "any", may).`);
    }
    const returnUrl = link.returnUrl === undefined ? null : this.authorizer.returnUrls.check(link.returnUrl, 'returnUrl');
    const connection = await this.reader.get(actor.orgId, link.connection, link.user);
    this.authorizer.assertMayAuthorize(connection, link.user);
    const created = await this.links.create({
      orgId: actor.orgId,
      linkName: connection.linkName,
      userId: link.user,
      returnUrl,
      createdBy: actor.userId,
      expiresInSeconds: link.expiresIn ?? CONNECT_LINK_DEFAULT_SECONDS,
    });
    const base = (request.publicUrl ?? this.publicUrl).replace(/\/$/, '');
    return { url: `${base}/console/connect/${created.token}`, expiresAt: created.expiresAt.toISOString() };
  }

  @MessagePattern(Subjects.connection.describeConnectLink)
  async describe(@Payload(new ContractPipe(DescribeConnectLinkRequestSchema)) request: DescribeConnectLinkRequest): Promise<ConnectLinkView> {
    const link = await this.links.find(request.token);
    const actor = { orgId: link.orgId, userId: link.userId };
    const connection = await this.reader.get(link.orgId, link.linkName, link.userId);
    const service = await this.services.view(actor, connection.service);
    const scopeNames = new Map((service.oauth2?.scopes ?? []).map((scope) => [scope.name, scope.displayName]));
    return {
      // Someone else's browser holding the link shows as used to this one only once it completes: the page cannot tell browsers apart.
      status: link.completed ? 'used' : link.expired ? 'expired' : 'active',
      expiresAt: link.expiresAt.toISOString(),
      user: link.userId,
      connection: { name: connection.name, linkName: connection.linkName },
      service: { name: service.name, linkName: service.linkName, authType: service.authType },
      scopes: connection.scopes.map((name) => ({ name, displayName: scopeNames.get(name) || name })),
      parameters: (service.apiKey?.params ?? []).map(({ name, displayName }) => ({ name, displayName: displayName || name })),
      returnsTo: link.returnUrl ? new URL(link.returnUrl).origin : null,
    };
  }

  @MessagePattern(Subjects.connection.authorizeConnectLink)
  async authorize(@Payload(new ContractPipe(AuthorizeConnectLinkRequestSchema)) request: AuthorizeConnectLinkRequest): Promise<ConnectLinkAuthorizeResult> {
    const link = await this.links.claim(request.token, request.browser);
    const actor = { orgId: link.orgId, userId: link.userId, ...(request.correlationId ? { correlationId: request.correlationId } : {}) };
    let completed = false;
    try {
      const result = await this.authorizer.authorize(actor, link.linkName, request.authorization, {
        returnUrl: link.returnUrl,
        region: null,
        binding: { browser: request.browser, connectLink: link.tokenHash },
        beforeRecord: async () => {
          await this.links.complete(link.tokenHash);
          completed = true;
        },
      });
      if ('authorizeUrl' in result) return result;
      return { status: 'connected', connection: link.linkName, returnUrl: withOutcome(link.returnUrl, link.linkName) };
    } catch (error) {
      // Recording failed after the link was used up: the same browser may try again.
      if (completed) await this.links.reopen(link.tokenHash);
      throw error;
    }
  }
}
