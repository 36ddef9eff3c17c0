import { connectionStreamId } from '@plugboard/contracts';
import { connectionDecider, type ConnectionCommand } from '@plugboard/connection-domain';
import { commandHandlerFor } from '@plugboard/event-store';
import { ConnectionListProjection } from './projections/connection-list.projection';

/** Where a connection command is decided: its connection's stream. */
function streamOf(command: ConnectionCommand): string {
  return connectionStreamId(command.data.orgId, command.type === 'CreateConnection' ? command.data.input.linkName : command.data.linkName);
}

/**
 * Every write to a connection's stream goes through here: the connection decider, with the stream's version, and the
 * `connections` read model written in the same transaction (so a command's caller reads its own write at once).
 */
export const connectionCommands = commandHandlerFor(connectionDecider, streamOf, { inline: new ConnectionListProjection() });
