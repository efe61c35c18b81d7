import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addYears, ageOn, compareDates, formatDate, parseDate, stockholmDate, stockholmInstant } from '../../src/sip/index.js';

describe('Stockholm calendar', () => {
  it('turns instants into the date in Stockholm, across midnight and daylight saving', () => {
    // 23:30 UTC on 28 March 2026 is 00:30 on the 29th in Stockholm (CET, +01:00).
    expect(formatDate(stockholmDate(new Date('2026-03-28T23:30:00Z')))).toBe('2026-03-29');
    // 22:30 UTC on 30 June is 00:30 on 1 July in summer time (+02:00).
    expect(formatDate(stockholmDate(new Date('2026-06-30T22:30:00Z')))).toBe('2026-07-01');
    expect(formatDate(stockholmDate(new Date('2026-06-30T21:30:00Z')))).toBe('2026-06-30');
  });

  it('writes instants as Stockholm time with its offset, so the first ten characters are the Stockholm date', () => {
    expect(stockholmInstant(new Date('2026-03-02T08:30:00Z'))).toBe('2026-03-02T09:30:00+01:00');
    expect(stockholmInstant(new Date('2026-07-15T07:30:00Z'))).toBe('2026-07-15T09:30:00+02:00');
    // The clocks go forward at 02:00 CET on 29 March 2026, and back at 03:00 CEST on 25 October.
    expect(stockholmInstant(new Date('2026-03-29T00:59:59Z'))).toBe('2026-03-29T01:59:59+01:00');
    expect(stockholmInstant(new Date('2026-03-29T01:00:00Z'))).toBe('2026-03-29T03:00:00+02:00');
    expect(stockholmInstant(new Date('2026-10-25T00:30:00Z'))).toBe('2026-10-25T02:30:00+02:00');
    expect(stockholmInstant(new Date('2026-10-25T01:30:00Z'))).toBe('2026-10-25T02:30:00+01:00');
    // Past midnight in Stockholm, still the old year in UTC; milliseconds are kept.
    expect(stockholmInstant(new Date('2026-12-31T23:30:00.123Z'))).toBe('2027-01-01T00:30:00.123+01:00');
  });

  it('gives the date and time Intl gives in Europe/Stockholm, also asked again in the same hour and around each change of the clocks', () => {
    const intl = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    const check = (instant: Date): void => {
      // sv-SE writes "2026-03-29 03:00:00".
      const [date, time] = intl.format(instant).split(' ');
      for (let twice = 0; twice < 2; twice++) {
        expect(formatDate(stockholmDate(instant))).toBe(date);
        expect(stockholmInstant(instant).slice(0, 19)).toBe(`${date ?? ''}T${time ?? ''}`);
      }
    };
    fc.assert(fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }), check), { numRuns: 2_000 });
    // Each second around the changes of 2026 (01:00 UTC), and the last second of 1979, before and after.
    for (const change of ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '1980-01-01T00:00:00Z', '1980-04-06T01:00:00Z']) {
      for (let second = -3; second <= 3; second++) check(new Date(Date.parse(change) + second * 1000));
    }
  });

  it('has the offset Intl has at every quarter hour around each change of the clocks of 1996–2099, where it follows the EU rule without asking Intl', () => {
    const intl = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    const QUARTER = 15 * 60_000;
    let checked = 0;
    const check = (time: number): void => {
      const instant = new Date(time);
      const [date, clock] = intl.format(instant).split(' ');
      const written = stockholmInstant(instant);
      expect(written.slice(0, 19)).toBe(`${date ?? ''}T${clock ?? ''}`);
      expect(Date.parse(written)).toBe(time);
      checked += 1;
    };
    for (let year = 1996; year <= 2099; year++) {
      // The changes fall on the last Sunday of March and of October: every quarter hour of the last week of each month.
      for (const month of [2, 9]) {
        for (let time = Date.UTC(year, month, 24); time < Date.UTC(year, month + 1, 1, 3); time += QUARTER) check(time);
      }
      // And the first hours of the year, where the rule's year begins.
      for (let time = Date.UTC(year, 0, 1) - 2 * QUARTER; time <= Date.UTC(year, 0, 1) + 2 * QUARTER; time += QUARTER) check(time);
    }
    // The seconds either side of the rule's bounds, 1996 and 2100, and of the changes of 2026.
    for (const edge of ['1996-01-01T00:00:00Z', '2100-01-01T00:00:00Z', '1995-12-31T23:00:00Z', '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z']) {
      for (let second = -3; second <= 3; second++) check(Date.parse(edge) + second * 1000);
    }
    expect(checked).toBeGreaterThan(150_000);
  });

  it('an instant written in Stockholm time is the same instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }), (instant) => {
        const written = stockholmInstant(instant);
        expect(Date.parse(written)).toBe(instant.getTime());
        expect(written.slice(0, 10)).toBe(formatDate(stockholmDate(instant)));
      }),
    );
  });

  it('adds a year on the calendar; 29 February becomes 28 February', () => {
    expect(formatDate(addYears(parseDate('2028-02-29'), 1))).toBe('2029-02-28');
    expect(formatDate(addYears(parseDate('2026-03-01'), 1))).toBe('2027-03-01');
  });

  it('reads a date as the former split-and-Number form did, for every text', () => {
    const former = (iso: string) => {
      const [year, month, day] = iso.split('-').map(Number);
      return { year: year ?? NaN, month: month ?? NaN, day: day ?? NaN };
    };
    // By hand: the form the schema admits, and texts the digit-by-digit path must hand on.
    expect(parseDate('2026-03-01')).toStrictEqual({ year: 2026, month: 3, day: 1 });
    expect(parseDate('0000-00-00')).toStrictEqual({ year: 0, month: 0, day: 0 });
    expect(parseDate('2026-3-1')).toStrictEqual({ year: 2026, month: 3, day: 1 });
    expect(parseDate('+2026-03-01')).toStrictEqual({ year: 2026, month: 3, day: 1 });
    for (const text of ['2026-03-0a', '2026-03- 1', '2026_03-01', ' 026-03-01', '2026-03-01T', '202６-03-01', '', '-', '2026']) expect(parseDate(text)).toStrictEqual(former(text));
    const digit = fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
    const dateLike = fc.tuple(fc.string({ unit: digit, minLength: 4, maxLength: 4 }), fc.string({ unit: digit, minLength: 2, maxLength: 2 }), fc.string({ unit: digit, minLength: 2, maxLength: 2 })).map((parts) => parts.join('-'));
    const nearly = fc.tuple(dateLike, fc.nat(9), fc.constantFrom('0', '-', '/', ' ', 'a', '٣', '.', '+', 'e')).map(([text, at, char]) => text.slice(0, at) + char + text.slice(at + 1));
    fc.assert(
      fc.property(fc.oneof(dateLike, nearly, fc.string({ maxLength: 12 })), (text) => {
        expect(parseDate(text)).toStrictEqual(former(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('counts age from the birthday itself', () => {
    expect(ageOn(parseDate('2008-05-10'), parseDate('2026-05-09'))).toBe(17);
    expect(ageOn(parseDate('2008-05-10'), parseDate('2026-05-10'))).toBe(18);
  });

  it('a year later is never before, and at most 366 days after', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }), (instant) => {
        const date = parseDate(instant.toISOString().slice(0, 10));
        const later = addYears(date, 1);
        const days = (Date.UTC(later.year, later.month - 1, later.day) - Date.UTC(date.year, date.month - 1, date.day)) / 86_400_000;
        expect(compareDates(later, date)).toBeGreaterThan(0);
        expect(days).toBeGreaterThanOrEqual(365);
        expect(days).toBeLessThanOrEqual(366);
      }),
    );
  });
});
