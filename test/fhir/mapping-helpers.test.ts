/**
 * The mapping's small helpers made cheaper for the derived texts (docs/performance.md "Derived texts in
 * one pass") against what they replace, kept here verbatim as the reference: `escapeXml` and `queryValue` (text with
 * nothing to escape or encode returned as it is), and `swedishDate` (a calendar date of 1000–9999
 * written without `Intl`). Old and new must give the same value, or both throw. `compact` is held to
 * its former form in test/sip/objects.test.ts, beside the helper it is now made of.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryValue } from '../../src/fhir/write/context.js';
import { escapeXml, swedishDate } from '../../src/fhir/write/narrative.js';

function formerEscapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
function formerQueryValue(value: string): string {
  return encodeURIComponent(value).replaceAll('%3A', ':').replaceAll('%2F', '/');
}
const FORMER_DATE = new Intl.DateTimeFormat('sv-SE', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const FORMER_INSTANT = new Intl.DateTimeFormat('sv-SE', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Stockholm' });
function formerSwedishDate(value: string): string {
  return value.length === 10 ? FORMER_DATE.format(new Date(`${value}T00:00:00Z`)) : FORMER_INSTANT.format(new Date(value));
}

/** The same string from both, or both throwing. */
function expectSame(now: (text: string) => string, former: (text: string) => string, text: string): void {
  let expected: string;
  try {
    expected = former(text);
  } catch {
    expect(() => now(text)).toThrow();
    return;
  }
  expect(now(text)).toBe(expected);
}

const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '!', '~', '*', "'", '(', ')', ':', '/', '%', '3', 'A', '&', '<', '>', '"', ' ', '|', 'å', '\ud800', '+', '?', '#') }));

describe('the mapping helpers against the computations they replace', () => {
  it('escapeXml writes the same text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expectSame(escapeXml, formerEscapeXml, text);
      }),
      { numRuns: 10_000 },
    );
  });

  it('queryValue writes the same text, and throws where the encoding throws (a lone surrogate)', () => {
    for (const text of ['http://snomed.info/sct', 'urn:oid:1.2.752.129.2.1.4.1', 'SE2321000180-1000', 'a b', 'å', '%3A', 'x|y', '\ud800', '']) expectSame(queryValue, formerQueryValue, text);
    fc.assert(
      fc.property(anyText, (text) => {
        expectSame(queryValue, formerQueryValue, text);
      }),
      { numRuns: 10_000 },
    );
  });

  it('swedishDate writes every day of 1900–2200 as Intl does', () => {
    let days = 0;
    for (let at = Date.UTC(1900, 0, 1); at <= Date.UTC(2200, 11, 31); at += 86_400_000) {
      const value = new Date(at).toISOString().slice(0, 10);
      expect(swedishDate(value)).toBe(formerSwedishDate(value));
      days += 1;
    }
    expect(days).toBeGreaterThan(100_000);
  });

  it('swedishDate writes generated dates as Intl does, or throws where it throws: any digits, days a month has not, other years, instants', () => {
    const digits = (length: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: length, maxLength: length });
    const date = fc.oneof(
      fc.tuple(digits(4), digits(2), digits(2)).map(([year, month, day]) => `${year}-${month}-${day}`),
      fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 })).map(([year, month, day]) => `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`),
      fc.constantFrom('2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '2026-04-31', '2026-00-10', '2026-13-01', '2026-01-00', '0999-12-31', '1000-01-01', '9999-12-31', '2026/03/05', '2026-3-5xx', '+02026-03', '2026-03-05T13:00:00+01:00', '2026-03-05T23:30:00Z', '2026-03'),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(date, (value) => {
        expectSame(swedishDate, formerSwedishDate, value);
      }),
      { numRuns: 20_000 },
    );
  });
});
