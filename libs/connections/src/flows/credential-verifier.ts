import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes, type StoredCredential } from '@plugboard/contracts';
import { EgressPolicy, verificationTargetOf, verifyCredential } from '@plugboard/outbound';
import type { ResolvedService } from '@plugboard/registry';

/**
 * Checks posted API key or Basic credentials with the service's verification call, when it declares one, before
 * anything is recorded: a 401 or 403 refuses the authorization (`credential_rejected`); no answer, or an answer
 * that says nothing about the credential (5xx, 429, a redirect), refuses it too (`verification_unreachable`), since
 * the credential could not be checked. The egress policy applies; a person is waiting, so its verification timeout bounds the call.
 */
@Injectable()
export class CredentialVerifier {
  constructor(private readonly egress: EgressPolicy) {}

  async check(service: ResolvedService, credential: StoredCredential): Promise<void> {
    const target = verificationTargetOf(service.source);
    if (!target) return;
    const call = `GET ${target.url.pathname}`;
    const outcome = await verifyCredential(target, credential, this.egress);
    if (outcome.result === 'rejected') {
      throw new DomainError(ErrorCodes.credentialRejected, `${service.name} refused these credentials (HTTP ${outcome.status} to ${call}). Check them and authorize again; nothing was stored.`);
    }
    if (outcome.result === 'inconclusive') {
      throw new DomainError(ErrorCodes.verificationUnreachable, `Plugboard could not check these credentials with ${service.name} (${outcome.reason} from ${call}). Nothing was stored; try again later.`);
    }
  }
}
