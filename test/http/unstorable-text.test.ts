/**
 * The shortcut before the walk for text PostgreSQL cannot store (src/http/app.ts): JSON text that
 * `mayHoldUnstorableText` clears never parses to a value `unstorableText` would refuse, so the request
 * body is walked only when it may hold such text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayHoldUnstorableText, unstorableText } from '../../src/http/app.js';

describe('mayHoldUnstorableText', () => {
  it('flags U+0000 and lone surrogates as JSON writes them, in either case, and unescaped', () => {
    expect(mayHoldUnstorableText('{"a":"x\\u0000y"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\uD800"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\\udfff"}')).toBe(true);
    expect(mayHoldUnstorableText('{"\\ud83d\\ude00":1}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\u0000"}')).toBe(true);
    expect(mayHoldUnstorableText('{"a":"\ud800"}')).toBe(true);
  });

  it('clears text without them: plain text, other escapes, a pair written as the character itself', () => {
    expect(mayHoldUnstorableText('{"resourceType":"Bundle","entry":[]}')).toBe(false);
    expect(mayHoldUnstorableText('{"a":"\\u00e5 \\n \\u0001 😀 åäö"}')).toBe(false);
  });

  it('never clears what unstorableText refuses, over any JSON value with any UTF-16 text (JSON.stringify writes the escapes)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        const text = JSON.stringify(value);
        if (unstorableText(JSON.parse(text)) !== undefined) expect(mayHoldUnstorableText(text)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('finds a lone surrogate written as an escape in a parsed body', () => {
    const text = '{"a":["ok","\\ud800"]}';
    expect(mayHoldUnstorableText(text)).toBe(true);
    expect(unstorableText(JSON.parse(text))).toBe('/a/1');
  });
});
