import { LINK_NAME_PATTERN } from './link-names';
import { linkNameCandidates, linkNameFromName } from './link-names';

describe('link names derived from display names (seed 000)', () => {
  it('lower-cases, joins words with one underscore, drops accents and punctuation', () => {
    expect(linkNameFromName('Sales CRM')).toBe('sales_crm');
    expect(linkNameFromName('  Zoho Books — EU (prod)! ')).toBe('zoho_books_eu_prod');
    expect(linkNameFromName('Café Münster')).toBe('cafe_munster');
    expect(linkNameFromName('already_a_link_name')).toBe('already_a_link_name');
  });

  it('always gives a valid link name: a letter first, 50 characters at most', () => {
    expect(linkNameFromName('2024 Reports')).toBe('c_2024_reports');
    expect(linkNameFromName('日本語')).toBe('connection');
    expect(linkNameFromName('a'.repeat(49) + ' b')).toBe('a'.repeat(49));
    for (const name of ['x', '_', '9', 'Ω', 'A'.repeat(80), 'a b '.repeat(30)]) expect(linkNameFromName(name)).toMatch(LINK_NAME_PATTERN);
  });

  it('numbers the next candidates, each fitting 50 characters', () => {
    expect(linkNameCandidates('Sales CRM', 4)).toEqual(['sales_crm', 'sales_crm_2', 'sales_crm_3', 'sales_crm_4']);
    const long = linkNameCandidates('b'.repeat(60), 12);
    expect(long[11]).toBe(`${'b'.repeat(47)}_12`);
    for (const candidate of long) expect(candidate).toMatch(LINK_NAME_PATTERN);
  });
});
