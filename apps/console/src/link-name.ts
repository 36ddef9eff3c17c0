import { LINK_NAME_PATTERN, linkNameFromName } from '@plugboard/contracts/link-names';

/** The link name proposed for a display name as it is typed: the server's own rule (seed 000), nothing for no name. */
export function proposeLinkName(name: string): string {
  return name.trim() ? linkNameFromName(name) : '';
}

/** The explanation shown under a link name field that does not follow the rule, or undefined when it does. */
export function linkNameProblem(value: string): string | undefined {
  if (!value) return 'Enter a link name.';
  if (value.length > 50) return 'A link name holds 50 characters at most.';
  if (!/^[a-z]/.test(value)) return 'A link name begins with a lowercase letter.';
  if (!LINK_NAME_PATTERN.test(value)) return 'A link name holds only lowercase letters, digits and underscores.';
  return undefined;
}
