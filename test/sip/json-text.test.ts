/** The one JSON reader (src/sip/json-text.ts) and the UTF-8 check in front of it (src/cli/files.ts). */
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from '../../src/cli/files.js';
import { outOfRangeNumber, parseJson } from '../../src/sip/json-text.js';

describe('outOfRangeNumber', () => {
  it('finds a number beyond ±1.8e308, however it is written, and where', () => {
    expect(outOfRangeNumber('{"a": 1e400}')).toEqual({ offset: 6, number: '1e400' });
    expect(outOfRangeNumber('[1, -1.5E+309]')).toEqual({ offset: 4, number: '-1.5E+309' });
    expect(outOfRangeNumber(`[${'9'.repeat(310)}]`)).toEqual({ offset: 1, number: '9'.repeat(310) });
    expect(outOfRangeNumber(`[${'9'.repeat(250)}e99]`)?.offset).toBe(1);
  });

  it('passes what a double holds, numbers too small for one (they become 0), and digits inside strings', () => {
    expect(outOfRangeNumber('[1.7976931348623157e308, -1e308, 1e-400, 1e0300]')).toBeUndefined();
    expect(outOfRangeNumber('{"a": "1e400", "b\\"1e999": "\\\\", "c": 2}')).toBeUndefined();
  });
});

describe('parseJson', () => {
  it('refuses a number out of range with its line and column, in the file (an .ndjson line starts lower)', () => {
    expect(parseJson('{\n  "n": 1e400\n}')).toEqual({ ok: false, message: expect.stringContaining('Malformed JSON at line 2, column 8: number out of range: 1e400') as unknown });
    expect(parseJson('[1e999]', 7)).toEqual({ ok: false, message: expect.stringContaining('at line 7, column 2') as unknown });
  });

  it('gives the value of valid JSON', () => {
    expect(parseJson('{"a": [1, "x", null]}')).toEqual({ ok: true, value: { a: [1, 'x', null] } });
  });
});

describe('firstInvalidUtf8', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

  it('names the first byte of the first ill-formed sequence', () => {
    expect(firstInvalidUtf8(bytes(0x61, 0xc3, 0x28))).toBe(1); // a lead byte without its continuation
    expect(firstInvalidUtf8(bytes(0x61, 0x80))).toBe(1); // a continuation byte alone
    expect(firstInvalidUtf8(bytes(0xc0, 0xaf))).toBe(0); // an overlong "/"
    expect(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80))).toBe(0); // a UTF-16 surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // past U+10FFFF
    expect(firstInvalidUtf8(bytes(0x61, 0xe2, 0x82))).toBe(1); // cut short at the end
  });

  it('passes well-formed UTF-8, Swedish and beyond the BMP', () => {
    expect(firstInvalidUtf8(new TextEncoder().encode('Åsa Öberg, Ängelholm 😀'))).toBeUndefined();
  });
});
