// No imports: the console bundles this file as it is (@plugboard/contracts/link-names), without zod.

/** Link names: a lowercase letter, then lowercase letters, digits and underscores, 50 characters at most (seed 004). */
export const LINK_NAME_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;

const MAX_LENGTH = 50;

/**
 * The link name seed 000 derives from a display name ("Sales CRM (EU)" → `sales_crm_eu`): accents dropped, every run
 * of other characters one underscore, lower case, at most 50 characters; one that would not start with a letter is
 * prefixed with `c_`, and a name with no letter or digit at all gives `connection`. Shared by the server (a connection
 * created without a link name) and the console (the name it proposes as you type), so both agree.
 */
export function linkNameFromName(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const named = base === '' ? 'connection' : /^[a-z]/.test(base) ? base : `c_${base}`;
  return trimmed(named, MAX_LENGTH);
}

/**
 * The link names to try, in order, for a display name: the derived one, then with `_2`, `_3`… up to `limit`, each cut
 * to fit 50 characters with its number.
 */
export function linkNameCandidates(name: string, limit = 100): string[] {
  const base = linkNameFromName(name);
  const out = [base];
  for (let n = 2; n <= limit; n++) out.push(`${trimmed(base, MAX_LENGTH - String(n).length - 1)}_${n}`);
  return out.filter((candidate) => LINK_NAME_PATTERN.test(candidate));
}

function trimmed(value: string, length: number): string {
  return value.slice(0, length).replace(/_+$/, '');
}
