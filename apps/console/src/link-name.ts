/** Link names: a lowercase letter, then lowercase letters, digits and underscores, 50 characters at most (seed 004). */
export const LINK_NAME_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;

/**
 * The link name proposed for a display name as it is typed (seed 000: "the link name is derived from the name"):
 * accents dropped, lowercase, every run of other characters one underscore, a leading letter ensured.
 */
export function proposeLinkName(name: string): string {
  let base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!base) return '';
  if (!/^[a-z]/.test(base)) base = `c_${base}`;
  return base.slice(0, 50).replace(/_+$/, '');
}

/** The explanation shown under a link name field that does not follow the rule, or undefined when it does. */
export function linkNameProblem(value: string): string | undefined {
  if (!value) return 'Enter a link name.';
  if (value.length > 50) return 'A link name holds 50 characters at most.';
  if (!/^[a-z]/.test(value)) return 'A link name begins with a lowercase letter.';
  if (!LINK_NAME_PATTERN.test(value)) return 'A link name holds only lowercase letters, digits and underscores.';
  return undefined;
}
