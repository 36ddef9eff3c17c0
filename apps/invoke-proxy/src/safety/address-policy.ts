// Moved to @plugboard/outbound: the connection and token-refresh apps make verification calls under the same rules.
export { hostAllowed, isPrivateAddress, safeLookup } from '@plugboard/outbound';
