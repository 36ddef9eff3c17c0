import { AuthorizeConnectionInputSchema, HeaderValueSchema, InvokeInputSchema, isHeaderValue, MAX_PAYLOAD_DEPTH, payloadProblem, requestTargetProblem } from './index';

describe('characters', () => {
  it('takes header values by the field-value grammar: tab, space, visible ASCII, Latin-1', () => {
    for (const good of ['', 'Bearer abc.def', 'caf\u00e9\tau lait', '\u00ff']) expect([good, isHeaderValue(good)]).toEqual([good, true]);
    for (const bad of ['a\u0000', 'a\r\nb', 'a\nb', 'a\u0001', 'a\u007f', '\u20ac', '\u2028', '😀']) expect([bad, isHeaderValue(bad)]).toEqual([bad, false]);
    expect(HeaderValueSchema.safeParse('x'.repeat(8193)).success).toBe(false);
  });

  it('refuses invoke headers no request could carry, with the header named', () => {
    const parsed = InvokeInputSchema.safeParse({ connection: 'crm', method: 'get', url: '/', headers: { 'x-note': 'a\u0001b' } });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['headers.x-note']);
  });

  it('refuses control characters in credentials, also for callers on the bus that skip the gateway', () => {
    const issues = (input: object) => AuthorizeConnectionInputSchema.safeParse(input).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(issues({ values: { key: 'a\u0000' } })).toEqual(['values.key']);
    expect(issues({ values: { key: 'a\tb' } })).toEqual(['values.key']);
    expect(issues({ values: { key: 'k\u00e9y-123 x' } })).toEqual([]);
    expect(issues({ username: 'ada\r\n', password: 'p\u0000w' })).toEqual(['username', 'password']);
    expect(issues({ username: 'a:da', password: 'pässwörd ✓' })).toEqual(['username']);
  });

  it('names what is wrong with a request target, and lets a line break through only in an API’s own query', () => {
    expect(requestTargetProblem('/v1/services/crm?limit=10&cursor=abc')).toBeNull();
    expect(requestTargetProblem('/v1/services/a%00')).toMatch(/path holds control characters/);
    expect(requestTargetProblem('/v1/services/a%0D%0A')).toMatch(/path holds control characters/);
    expect(requestTargetProblem('/v1/services/%E0%A4%A')).toMatch(/not valid percent-encoded UTF-8/);
    expect(requestTargetProblem('/v1/services?q=%00')).toMatch(/query string holds control characters/);
    expect(requestTargetProblem('/v1/services?q=a%0ab')).toMatch(/query string/);
    expect(requestTargetProblem('/v1/services?q=%7F')).toMatch(/query string/);
    expect(requestTargetProblem('/v1/services?q=%20%2F%e2%82%ac')).toBeNull();
    expect(requestTargetProblem('/v1/proxy/crm/messages?text=one%0Atwo', { apiQuery: true })).toBeNull();
    expect(requestTargetProblem('/v1/proxy/crm/messages?text=%00', { apiQuery: true })).toMatch(/query string/);
    expect(requestTargetProblem('/v1/proxy/crm/a%00b', { apiQuery: true })).toMatch(/path/);
  });

  it('finds a NUL in a parsed payload, key or value, and nesting past the limit', () => {
    const nested = (levels: number) => {
      let value: unknown = 1;
      for (let level = 1; level < levels; level++) value = level % 2 ? [value] : { a: value };
      return { top: value };
    };
    expect(payloadProblem(nested(MAX_PAYLOAD_DEPTH))).toBeNull();
    expect(payloadProblem(nested(MAX_PAYLOAD_DEPTH + 1))).toBe('too_deep');
    expect(payloadProblem({ a: ['x', { b: 'y\u0000' }] })).toBe('nul');
    expect(payloadProblem({ 'k\u0000': 1 })).toBe('nul');
    expect(payloadProblem({ a: 'line\nbreak \u0001', n: null, t: true, x: 3 })).toBeNull();
  });
});
