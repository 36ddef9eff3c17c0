import { MAX_PAYLOAD_DEPTH as MAX_JSON_DEPTH } from '@plugboard/contracts';
import { jsonBodyProblem } from './json-body';

const problem = (text: string) => jsonBodyProblem(Buffer.from(text));

describe('JSON bodies before parsing', () => {
  it('counts nesting outside strings only, up to the limit', () => {
    expect(problem(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBeNull();
    expect(problem(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toBe('too_deep');
    expect(problem(`${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`)).toBe('too_deep');
    expect(problem(`{"s":"${'['.repeat(1000)}"}`)).toBeNull();
    // An escaped quote does not end the string, so the brackets after it are still text.
    expect(problem(`{"s":"\\"${'['.repeat(1000)}"}`)).toBeNull();
    // An escaped backslash does end it: the quote after it closes the string.
    expect(problem(`{"s":"\\\\", "t": ${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`)).toBe('too_deep');
    // Siblings do not add up.
    expect(problem(`[${'[[]],'.repeat(1000)}[]]`)).toBeNull();
  });

  it('finds an escaped NUL in any string, key or value, and not a quoted backslash before u0000', () => {
    expect(problem('{"a":"x\\u0000"}')).toBe('nul');
    expect(problem('{"a\\u0000":1}')).toBe('nul');
    expect(problem('{"a":"\\\\u0000"}')).toBeNull();
    expect(problem('{"a":"\\u00001"}')).toBe('nul');
    expect(problem('{"a":"\\u0001 \\u00e9"}')).toBeNull();
    expect(problem('{"name":"caf\u00e9 ☕"}')).toBeNull();
  });
});
