/**
 * `outOfRangeNumber`'s cheaper prefilter (a number's exponent looked for where JSON puts a number,
 * not any `e` and three digits: docs/performance.md, branch `i11-tx7`) against the function as it was,
 * kept here verbatim as the reference. Both must find the same number at the same offset, or none,
 * on every valid JSON text: generated ones whose numbers are written out digit by digit (exponents of
 * any length, mantissas up to 320 digits, any white space and nesting), texts of strings full of
 * number look-alikes, and the SIP transaction Bundles of the examples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { outOfRangeNumber } from '../../src/sip/json-text.js';
import { exampleFiles, readExample } from '../support/examples.js';

const FORMER_MAYBE_OUT_OF_RANGE = /[eE]\+?\d{3}|\d{200}/;
const FORMER_NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
function formerOutOfRangeNumber(text: string): { offset: number; number: string } | undefined {
  if (!FORMER_MAYBE_OUT_OF_RANGE.test(text)) return undefined;
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === 0x22 /* " */) {
      at = formerStringEnd(text, at);
    } else if (code === 0x2d /* - */ || (code >= 0x30 && code <= 0x39)) {
      FORMER_NUMBER.lastIndex = at;
      const number = FORMER_NUMBER.exec(text)?.[0] ?? text.charAt(at);
      if (!Number.isFinite(Number(number))) return { offset: at, number };
      at += number.length;
    } else {
      at += 1;
    }
  }
  return undefined;
}
function formerStringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote > 0) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '5', '7', '9'), minLength: min, maxLength: max });
/** A JSON number token, written out: sign, integer part (no leading zero), fraction, exponent of 0–5 digits. */
const numberToken = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom('1', '4', '9'), fc.oneof(digits(0, 3), digits(195, 320))).map(([lead, rest]) => lead + rest)),
    fc.option(digits(1, 4), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.oneof(fc.constantFrom('308', '309', '400', '0300', '99', '1', '00400'), digits(1, 5))), { nil: undefined }),
  )
  .filter(([, , , exponent]) => exponent === undefined || exponent[2].length > 0)
  .map(([negative, integer, fraction, exponent]) => `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}${exponent === undefined ? '' : exponent.join('')}`);
/** Strings holding what looks like numbers: `e` and digits, quotes and backslashes escaped as JSON.stringify escapes them. */
const lookAlike = fc.string({ unit: fc.constantFrom('e', 'E', '+', '-', '1', '4', '0', '9', ':', ',', '[', ' ', 'a', '"', '\\', '.'), maxLength: 30 }).map((text) => JSON.stringify(text));
const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberToken,
    lookAlike,
    fc.constantFrom('true', 'false', 'null'),
    fc.tuple(space, fc.array(fc.tuple(space, tie('value'), space), { maxLength: 4 })).map(([before, items]) => `[${before}${items.map((item) => item.join('')).join(',')}]`),
    fc.array(fc.tuple(lookAlike, space, tie('value'), space), { maxLength: 4 }).map((members) => `{${members.map(([key, before, item, after]) => `${key}${before}:${before}${item}${after}`).join(',')}}`),
  ),
})).value;

describe('outOfRangeNumber with the cheaper prefilter, against the function as it was', () => {
  it('finds the same number at the same offset, or none, on generated JSON', () => {
    fc.assert(
      fc.property(space, jsonText, space, (before, text, after) => {
        const whole = `${before}${text}${after}`;
        // Valid JSON only: what the function is given.
        JSON.parse(whole);
        expect(outOfRangeNumber(whole)).toEqual(formerOutOfRangeNumber(whole));
      }),
      { numRuns: 20_000 },
    );
  });

  it('finds the same on the named shapes: a number first, after each separator, within and after strings', () => {
    const numbers = ['1e400', '-1.5E+309', '1e308', '1.7976931348623157e308', '1e-400', '1e0300', '4e123', '9'.repeat(310), `${'9'.repeat(250)}e99`, '0.5e999', '-0e400'];
    for (const number of numbers) {
      for (const text of [number, ` ${number}`, `\n${number}\t`, `[${number}]`, `[1,${number}]`, `[1 ,\n ${number}]`, `{"a":${number}}`, `{"a" : ${number}}`, `{"e123":"4e123","b":${number}}`, `["urn:uuid:4e123","\\"",${number}]`]) {
        expect(outOfRangeNumber(text)).toEqual(formerOutOfRangeNumber(text));
      }
    }
  });

  it('passes the SIP transaction Bundle of every example, as before', () => {
    for (const file of exampleFiles) {
      const text = JSON.stringify(planToBundle(readExample(file)), null, file.length % 2 === 0 ? 2 : undefined);
      expect(outOfRangeNumber(text)).toBeUndefined();
      expect(formerOutOfRangeNumber(text)).toBeUndefined();
    }
  });
});
