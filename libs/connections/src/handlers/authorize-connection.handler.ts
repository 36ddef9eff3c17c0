import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthorizeConnectionRequestSchema,
  CompleteAuthorizationRequestSchema,
  DomainError,
  Subjects,
  type AuthorizeConnectionRequest,
  type AuthorizeResult,
  type CompleteAuthorizationRequest,
  type CompletedAuthorization,
} from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { ConnectionAuthorizer } from '../flows/connection-authorizer';
import { ConnectLinks } from '../flows/connect-links';
import { CredentialRecorder } from '../flows/credential-recorder';
import { OAuthFlows } from '../flows/oauth.flows';

/** `connection.authorizeConnection` and the provider's redirect back (`connection.completeAuthorization`). */
@Controller()
export class AuthorizeConnectionHandler {
  constructor(
    private readonly authorizer: ConnectionAuthorizer,
    private readonly flows: OAuthFlows,
    private readonly credentials: CredentialRecorder,
    private readonly links: ConnectLinks,
  ) {}

  @MessagePattern(Subjects.connection.authorizeConnection)
  async authorize(@Payload(new ContractPipe(AuthorizeConnectionRequestSchema)) request: AuthorizeConnectionRequest): Promise<AuthorizeResult> {
    const { actor, linkName, authorization } = request;
    // Before anything else, so a refused returnUrl leaves no pending authorization and asks no provider for a token.
    const returnUrl = authorization.returnUrl === undefined ? null : this.authorizer.returnUrls.check(authorization.returnUrl);
    return this.authorizer.authorize(actor, linkName, authorization, {
      returnUrl,
      region: authorization.region ?? null,
      binding: request.browser ? { browser: request.browser, connectLink: null } : null,
    });
  }

  /** The provider sent the user back: finish the authorization it names, once, in the browser that started it. */
  @MessagePattern(Subjects.connection.completeAuthorization)
  async complete(@Payload(new ContractPipe(CompleteAuthorizationRequestSchema)) request: CompleteAuthorizationRequest): Promise<CompletedAuthorization> {
    const completion = await this.flows.complete(request.protocol, request.params, request.browser ?? null);
    if (completion.outcome !== 'connected') {
      return { outcome: completion.outcome, message: completion.message, linkName: completion.linkName, returnUrl: completion.returnUrl };
    }
    const { connectLink } = completion;
    if (connectLink) {
      // The link started this flow; another flow it started may have completed first.
      try {
        await this.links.complete(connectLink);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return { outcome: 'failed', message: error.message, linkName: completion.linkName, returnUrl: completion.returnUrl };
      }
    }
    try {
      const connection = await this.credentials.record(completion.actor, completion.linkName, completion.credential, completion.grant);
      return { outcome: 'connected', message: `The connection "${connection.name}" is connected.`, linkName: connection.linkName, returnUrl: completion.returnUrl };
    } catch (error) {
      if (connectLink) await this.links.reopen(connectLink);
      throw error;
    }
  }
}
