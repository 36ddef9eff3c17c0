import { details, table } from './output';

describe('human output', () => {
  it('aligns a table under upper-case headings, with - for empty cells and lists joined', () => {
    const rows = [
      { linkName: 'acme_crm', status: 'connected', scopes: ['read', 'write'] },
      { linkName: 'x', status: null, scopes: [] },
    ];
    const text = table(rows, [
      { heading: 'link name', value: (r) => r.linkName },
      { heading: 'status', value: (r) => r.status },
      { heading: 'scopes', value: (r) => r.scopes },
    ]);
    expect(text).toBe(['LINK NAME  STATUS     SCOPES', 'acme_crm   connected  read,write', 'x          -          -', ''].join('\n'));
  });

  it('says (none) for no rows, and prints one record as aligned fields', () => {
    expect(table([], [{ heading: 'a', value: () => 1 }])).toBe('(none)\n');
    expect(details({ name: 'Acme', apiKey: { params: [] }, owner: null, skipped: undefined })).toBe('name:   Acme\napiKey: {"params":[]}\nowner:  -\n');
  });
});
