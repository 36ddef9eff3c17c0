import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthorizeConnectionRequestSchema,
  CompleteAuthorizationRequestSchema,
  DomainError,
  ErrorCodes,
  invalidField as invalid,
  Subjects,
  type AuthorizeConnectionInput,
  type AuthorizeConnectionRequest,
  type AuthorizeResult,
  type CompleteAuthorizationRequest,
  type CompletedAuthorization,
  type ServiceView,
  type StoredCredential,
} from '@plugboard/contracts';
import { ContractPipe } from '@plugboard/messaging';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { CredentialRecorder } from '../flows/credential-recorder';
import { CredentialVerifier } from '../flows/credential-verifier';
import { OAuthFlows } from '../flows/oauth.flows';
import { ReturnUrls } from '../flows/return-urls';
import { ConnectionReader } from '../read-models/connection.reader';
import { ServiceLookup } from '../read-models/service.lookup';

/** Checks posted API key or Basic credentials against what the service needs. Values never appear in messages. */
function postedCredential(service: ServiceView, input: AuthorizeConnectionInput): StoredCredential {
  if (service.authType === 'api_key') {
    const values = input.values ?? {};
    const expected = (service.apiKey?.params ?? []).map((p) => p.name);
    const missing = expected.filter((name) => !(name in values));
    const unknown = Object.keys(values).filter((name) => !expected.includes(name));
    if (missing.length > 0) throw invalid('authorization.values', `the service needs ${missing.join(', ')}`);
    if (unknown.length > 0) throw invalid('authorization.values', `the service has no parameter ${unknown.join(', ')}`);
    return { kind: 'api_key', values };
  }
  if (!input.username || !input.password) throw invalid('authorization', 'a Basic service needs a username and a password');
  return { kind: 'basic', username: input.username, password: input.password };
}

/**
 * Authorizes a connection (or, with login-user credentials, the caller's own use of it): API key and Basic values
 * at once, OAuth 2 client credentials at once, OAuth 2 authorization code and OAuth 1.0a through the provider's page
 * and back through the callback.
 */
@Controller()
export class AuthorizeConnectionHandler {
  private readonly returnUrls: ReturnUrls;

  constructor(
    private readonly services: ServiceLookup,
    private readonly reader: ConnectionReader,
    private readonly flows: OAuthFlows,
    private readonly credentials: CredentialRecorder,
    private readonly verifier: CredentialVerifier,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.returnUrls = new ReturnUrls(config);
  }

  @MessagePattern(Subjects.connection.authorizeConnection)
  async authorize(@Payload(new ContractPipe(AuthorizeConnectionRequestSchema)) request: AuthorizeConnectionRequest): Promise<AuthorizeResult> {
    const { actor, linkName, authorization } = request;
    // Before anything else, so a refused returnUrl leaves no pending authorization and asks no provider for a token.
    const returnUrl = authorization.returnUrl === undefined ? null : this.returnUrls.check(authorization.returnUrl);
    const connection = await this.reader.get(actor.orgId, linkName, actor.userId);
    if (!connection.useLoginUserCredentials && connection.owner !== actor.userId) {
      throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may authorize it; it does not use each user's own credentials.`);
    }
    const service = await this.services.view(actor, connection.service);
    switch (service.authType) {
      case 'api_key':
      case 'basic': {
        const credential = postedCredential(service, authorization);
        await this.verifier.check(actor.orgId, connection, service.name, credential);
        return { connection: await this.credentials.record(actor, linkName, credential) };
      }
      case 'oauth2': {
        const started = await this.flows.startOAuth2(actor, connection, returnUrl, authorization.region ?? null);
        if ('authorizeUrl' in started) return started;
        return { connection: await this.credentials.record(actor, linkName, started.credential, started.grant) };
      }
      case 'oauth1':
        return this.flows.startOAuth1(actor, connection, returnUrl, authorization.region ?? null);
    }
  }

  /** The provider sent the user back: finish the authorization it names, once. */
  @MessagePattern(Subjects.connection.completeAuthorization)
  async complete(@Payload(new ContractPipe(CompleteAuthorizationRequestSchema)) request: CompleteAuthorizationRequest): Promise<CompletedAuthorization> {
    const completion = await this.flows.complete(request.protocol, request.params);
    if (completion.outcome !== 'connected') {
      return { outcome: completion.outcome, message: completion.message, linkName: completion.linkName, returnUrl: completion.returnUrl };
    }
    const connection = await this.credentials.record(completion.actor, completion.linkName, completion.credential, completion.grant);
    return { outcome: 'connected', message: `The connection "${connection.name}" is connected.`, linkName: connection.linkName, returnUrl: completion.returnUrl };
  }
}
