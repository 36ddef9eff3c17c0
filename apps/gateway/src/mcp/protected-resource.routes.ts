import { Controller, Get, Header, Inject } from '@nestjs/common';
import { PLATFORM_CONFIG, publicUrlOf, type PlatformConfig } from '@plugboard/runtime';
import { Public } from '../http/auth';

/** RFC 9728: the metadata of the resource `<public url>/mcp` lives at the well-known path with the resource's path after it. */
export function protectedResourceMetadataUrl(publicUrl: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
}

/** What RFC 9728 lets a resource say about itself; the MCP authorization spec reads `authorization_servers`. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name: string;
  resource_documentation: string;
}

/**
 * OAuth 2.0 protected-resource metadata for the MCP endpoint, public: an MCP client that got a 401 from /mcp reads it
 * to find where to sign in. The authorization server is the org's OpenID Connect provider when its issuer is
 * configured (PLUGBOARD_OPERATOR_OIDC.issuer); without one, none is named and clients send an API key.
 */
@Controller('.well-known/oauth-protected-resource')
@Public()
export class ProtectedResourceRoutes {
  private readonly metadata: ProtectedResourceMetadata;

  constructor(@Inject(PLATFORM_CONFIG) config: PlatformConfig) {
    const publicUrl = publicUrlOf(config);
    const oidc = config.PLUGBOARD_OPERATOR_OIDC;
    this.metadata = {
      resource: `${publicUrl}/mcp`,
      ...(oidc?.issuer ? { authorization_servers: [oidc.issuer], scopes_supported: oidc.scope.split(/\s+/).filter(Boolean) } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'Plugboard',
      resource_documentation: `${publicUrl}/docs`,
    };
  }

  // Clients that read the root form first (the resource path dropped) find the same answer: /mcp is the one resource.
  @Get(['mcp', ''])
  @Header('cache-control', 'public, max-age=3600')
  get(): ProtectedResourceMetadata {
    return this.metadata;
  }
}
