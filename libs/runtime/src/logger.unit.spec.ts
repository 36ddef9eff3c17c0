import { createLogger } from './logger';

describe('logger', () => {
  function logged(write: (logger: ReturnType<typeof createLogger>) => void): string {
    const lines: string[] = [];
    write(createLogger('test', 'info', { write: (line: string) => lines.push(line) }));
    return lines.join('');
  }

  it('blanks out fields that carry secrets', () => {
    const text = logged((l) => l.info({ oauth: { clientSecret: 'cs-1', accessToken: 'at-2' }, req: { headers: { authorization: 'Bearer pb_3' } } }, 'x'));
    for (const secret of ['cs-1', 'at-2', 'pb_3']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('keeps only the path of a logged URL, whose query can hold a token', () => {
    const text = logged((l) => l.warn({ url: 'https://api.example.com/v1/me?access_token=tok-4&code=c-5' }, 'call failed'));
    expect(text).toContain('"url":"https://api.example.com/v1/me"');
    expect(text).not.toMatch(/tok-4|c-5/);
  });
});
