import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, invalidField as invalid, type Actor, type AuthorizeConnectionInput, type AuthorizeResult, type StoredCredential } from '@plugboard/contracts';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';
import { ServiceDefinitions, type ResolvedService, type ServiceRef } from '@plugboard/registry';
import { ConnectionReader } from '../read-models/connection.reader';
import { CredentialRecorder } from './credential-recorder';
import { CredentialVerifier } from './credential-verifier';
import { OAuthFlows, type FlowBinding } from './oauth.flows';
import { ReturnUrls } from './return-urls';

/** Checks posted API key or Basic credentials against what the service needs. Values never appear in messages. */
function postedCredential(service: ResolvedService, input: AuthorizeConnectionInput): StoredCredential {
  if (service.authType === 'api_key') {
    const values = input.values ?? {};
    const expected = service.apiKeyParams.map((p) => p.name);
    const missing = expected.filter((name) => !(name in values));
    const unknown = Object.keys(values).filter((name) => !expected.includes(name));
    if (missing.length > 0) throw invalid('authorization.values', `the service needs ${missing.join(', ')}`);
    if (unknown.length > 0) throw invalid('authorization.values', `the service has no parameter ${unknown.join(', ')}`);
    return { kind: 'api_key', values };
  }
  if (!input.username || !input.password) throw invalid('authorization', 'a Basic service needs a username and a password');
  return { kind: 'basic', username: input.username, password: input.password };
}

/** How an authorization was asked for: where to return, which region's callback, and what binds its OAuth flow. */
export interface AuthorizeOptions {
  returnUrl: string | null;
  region: string | null;
  binding: FlowBinding | null;
  /** Runs after the credential is checked and before it is recorded (a connect link is used up there). */
  beforeRecord?: () => Promise<void>;
}

/**
 * Authorizes a connection (or, with login-user credentials, the actor's own use of it): API key and Basic values
 * at once, OAuth 2 client credentials at once, OAuth 2 authorization code and OAuth 1.0a through the provider's page
 * and back through the callback. Used by `authorizeConnection` and by connect links alike.
 */
@Injectable()
export class ConnectionAuthorizer {
  readonly returnUrls: ReturnUrls;

  constructor(
    private readonly services: ServiceDefinitions,
    private readonly reader: ConnectionReader,
    private readonly flows: OAuthFlows,
    private readonly credentials: CredentialRecorder,
    private readonly verifier: CredentialVerifier,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.returnUrls = new ReturnUrls(config);
  }

  /** Only the owner authorizes a connection that does not take each user's own credentials. */
  assertMayAuthorize(connection: { useLoginUserCredentials: boolean; owner: string }, userId: string): void {
    if (!connection.useLoginUserCredentials && connection.owner !== userId) {
      throw new DomainError(ErrorCodes.notOwner, `Only the owner of this connection (${connection.owner}) may authorize it; it does not use each user's own credentials.`);
    }
  }

  async authorize(actor: Actor, linkName: string, input: AuthorizeConnectionInput, options: AuthorizeOptions): Promise<AuthorizeResult> {
    const connection = await this.reader.get(actor.orgId, linkName, actor.userId);
    this.assertMayAuthorize(connection, actor.userId);
    // Read once, in-process, and handed to the steps below: the service's definition and its OAuth client.
    const service = await this.serviceOf(actor.orgId, connection);
    switch (service.authType) {
      case 'api_key':
      case 'basic': {
        const credential = postedCredential(service, input);
        await this.verifier.check(service, credential);
        await options.beforeRecord?.();
        return { connection: await this.credentials.record(actor, linkName, credential) };
      }
      case 'oauth2': {
        const started = await this.flows.startOAuth2(actor, connection, service, options.returnUrl, options.region, options.binding);
        if ('authorizeUrl' in started) return started;
        await options.beforeRecord?.();
        return { connection: await this.credentials.record(actor, linkName, started.credential, started.grant) };
      }
      case 'oauth1':
        return this.flows.startOAuth1(actor, connection, service, options.returnUrl, options.region, options.binding);
      default: {
        const exhaustive: never = service.authType;
        throw new Error(`unknown auth type ${String(exhaustive)}`);
      }
    }
  }

  /** A service the org no longer has is the connection's field in error, as when the connection was created. */
  private async serviceOf(orgId: string, connection: ServiceRef): Promise<ResolvedService> {
    try {
      return await this.services.get(orgId, connection);
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCodes.serviceNotFound) {
        throw invalid('connection.service', `no service with link name "${connection.service}" exists in this organization`);
      }
      throw error;
    }
  }
}
