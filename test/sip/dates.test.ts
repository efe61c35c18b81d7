import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addYears, ageOn, compareDates, formatDate, parseDate, stockholmDate } from '../../src/sip/index.js';

describe('Stockholm calendar', () => {
  it('turns instants into the date in Stockholm, across midnight and daylight saving', () => {
    // 23:30 UTC on 28 March 2026 is 00:30 on the 29th in Stockholm (CET, +01:00).
    expect(formatDate(stockholmDate(new Date('2026-03-28T23:30:00Z')))).toBe('2026-03-29');
    // 22:30 UTC on 30 June is 00:30 on 1 July in summer time (+02:00).
    expect(formatDate(stockholmDate(new Date('2026-06-30T22:30:00Z')))).toBe('2026-07-01');
    expect(formatDate(stockholmDate(new Date('2026-06-30T21:30:00Z')))).toBe('2026-06-30');
  });

  it('adds a year on the calendar; 29 February becomes 28 February', () => {
    expect(formatDate(addYears(parseDate('2028-02-29'), 1))).toBe('2029-02-28');
    expect(formatDate(addYears(parseDate('2026-03-01'), 1))).toBe('2027-03-01');
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
