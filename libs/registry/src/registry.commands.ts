import { serviceClientStreamId, serviceStreamId } from '@plugboard/contracts';
import { commandHandlerFor } from '@plugboard/event-store';
import { serviceClientDecider, serviceDecider, type ServiceClientCommand, type ServiceCommand } from '@plugboard/registry-domain';
import { ServiceListProjection } from './projections/service-list.projection';

/**
 * Every write to a custom service's stream goes through here: the service decider, with the stream's version, and the
 * `services` read model written in the same transaction.
 */
export const serviceCommands = commandHandlerFor(
  serviceDecider,
  (command: ServiceCommand) => serviceStreamId(command.data.orgId, command.type === 'CreateService' ? command.data.input.linkName : command.data.linkName),
  { inline: new ServiceListProjection() },
);

/** Every write to an org's own OAuth app for a predefined service goes through here: the service-client decider. */
export const serviceClientCommands = commandHandlerFor(serviceClientDecider, (command: ServiceClientCommand) => serviceClientStreamId(command.data.orgId, command.data.linkName));
