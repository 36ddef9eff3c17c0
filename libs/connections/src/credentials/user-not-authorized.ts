import { DomainError, ErrorCodes, Subjects, type Actor } from '@plugboard/contracts';
import type { RpcClient } from '@plugboard/messaging';

/**
 * `user_not_authorized`: the call needs the acting user's own credential of a login-user connection, and there is
 * none yet. A product's key (its caller cannot authorize for the user) also gets a connect link to hand to that user;
 * a person is told to authorize it themselves. No link when the connection app cannot make one: the refusal stands.
 */
export async function userNotAuthorized(rpc: RpcClient, actor: Actor, linkName: string): Promise<DomainError> {
  if (!actor.byProduct) {
    return new DomainError(ErrorCodes.userNotAuthorized, `You have not authorized the connection "${linkName}" with your own account yet: POST /v1/connections/${linkName}/authorize.`);
  }
  const message = `The user "${actor.userId}" has not authorized the connection "${linkName}" with their own account yet.`;
  try {
    const link = await rpc.request(Subjects.connection.createConnectLink, { actor, link: { connection: linkName, user: actor.userId } });
    return new DomainError(ErrorCodes.userNotAuthorized, `${message} Hand them connectLink: they connect their account there, then call again.`, undefined, { url: link.url, expiresAt: link.expiresAt });
  } catch {
    return new DomainError(ErrorCodes.userNotAuthorized, `${message} Create a connect link for them (POST /v1/connect-links).`);
  }
}
