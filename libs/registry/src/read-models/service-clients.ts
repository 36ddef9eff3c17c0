import { Inject, Injectable } from '@nestjs/common';
import { MASKED_SECRET, serviceClientStreamId, type ServiceClientView, type ServiceView } from '@plugboard/contracts';
import { EventStore } from '@plugboard/event-store';
import { serviceClientDecider, type ServiceClientState } from '@plugboard/registry-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@plugboard/runtime';

/**
 * Which OAuth app a predefined service uses in an org: the org's own (its stream), else the deployment's
 * (PLUGBOARD_PREDEFINED_CLIENTS), else none. Read from the log, so a PUT is read back at once.
 */
@Injectable()
export class ServiceClients {
  private readonly deployment: ReadonlySet<string>;

  constructor(
    private readonly store: EventStore,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.deployment = new Set(Object.keys(config.PLUGBOARD_PREDEFINED_CLIENTS ? JSON.parse(config.PLUGBOARD_PREDEFINED_CLIENTS) : {}));
  }

  async state(orgId: string, linkName: string): Promise<ServiceClientState> {
    return (await this.store.aggregateStream(serviceClientStreamId(orgId, linkName), serviceClientDecider)).state;
  }

  /** A predefined OAuth service's view with its `client` block; other services' views unchanged. */
  async withClient(orgId: string, view: ServiceView): Promise<ServiceView> {
    if (view.type !== 'predefined' || (view.authType !== 'oauth1' && view.authType !== 'oauth2')) return view;
    const { client } = await this.state(orgId, view.linkName);
    const shown: ServiceClientView = client
      ? { source: 'organization', clientId: client.clientId, clientSecret: MASKED_SECRET, updatedAt: client.updatedAt }
      : // The deployment's registration is the operator's: that there is one, nothing of it.
        { source: this.deployment.has(view.linkName) ? 'deployment' : 'none', clientId: null, clientSecret: null, updatedAt: null };
    return { ...view, client: shown };
  }
}
