/**
 * The mapping's small helpers made cheaper for the derived texts (docs/performance.md "Derived texts in
 * one pass") against what they replace, kept here verbatim as the reference: `escapeXml` and `queryValue` (text with
 * nothing to escape or encode returned as it is), `swedishDate` (a calendar date of 1000–9999
 * written without `Intl`), and `swedishDate` and `swedishClock` of an instant (from Stockholm's wall
 * clock, src/sip/dates.ts, instead of two `Intl` formatters; docs/performance.md "Stockholm's offset
 * by the EU rule"). Old and new must give the same value, or both throw. `compact` is held to
 * its former form in test/sip/objects.test.ts, beside the helper it is now made of.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryValue } from '../../src/fhir/write/context.js';
import { escapeXml, swedishClock, swedishDate } from '../../src/fhir/write/narrative.js';

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
const FORMER_CLOCK = new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/Stockholm' });
function formerSwedishClock(value: string): string {
  const parts = FORMER_CLOCK.formatToParts(new Date(value));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)?.value ?? '00';
  return `${part('hour')}.${part('minute')}`;
}

/** An instant as a plan writes one: ISO 8601 with `Z` or an offset of whole or half hours. */
const isoInstant = fc
  .tuple(fc.date({ min: new Date('0900-01-01T00:00:00Z'), max: new Date('2300-12-31T23:59:59Z'), noInvalidDate: true }), fc.constantFrom('Z', '+01:00', '+02:00', '-05:00', '+05:30', '+14:00', '-12:00'))
  .map(([date, zone]) => {
    if (zone === 'Z') return date.toISOString();
    const sign = zone.startsWith('-') ? -1 : 1;
    const minutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    return `${new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 19)}${zone}`;
  });

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

  it('swedishDate and swedishClock write an instant as Intl does in Stockholm: generated instants, every quarter hour around the changes of the clocks, and texts Date reads otherwise or not at all', () => {
    fc.assert(
      fc.property(isoInstant, (value) => {
        expectSame(swedishDate, formerSwedishDate, value);
        expectSame(swedishClock, formerSwedishClock, value);
      }),
      { numRuns: 20_000 },
    );
    for (const year of [1979, 1980, 1995, 1996, 2026, 2099, 2100]) {
      for (const month of [2, 8, 9]) {
        for (let time = Date.UTC(year, month, 24); time < Date.UTC(year, month + 1, 1, 3); time += 15 * 60_000) {
          const value = new Date(time).toISOString();
          expectSame(swedishDate, formerSwedishDate, value);
          expectSame(swedishClock, formerSwedishClock, value);
        }
      }
    }
    for (const value of ['2026-03-05T13:00:00+01:00', '2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z', '1979-12-31T23:30:00Z', '+012026-03-05T13:00:00Z', '2026-03-05 13:00', '2026-03', 'not a date', '2026-02-30T10:00:00Z', '']) {
      expectSame(swedishDate, formerSwedishDate, value);
      expectSame(swedishClock, formerSwedishClock, value);
    }
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
