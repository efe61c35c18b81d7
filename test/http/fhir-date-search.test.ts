/**
 * FHIR date search on an instant (src/http/fhir-date-search.ts): the ranges below are worked out by
 * hand from https://hl7.org/fhir/R4/search.html#date — a value's precision makes it a range, a
 * value without a time zone is Stockholm time (UTC+1 in winter, UTC+2 from the last Sunday of March).
 */
import { describe, expect, it } from 'vitest';
import { datePeriodFilter, dateSearchRange, valueRange } from '../../src/http/fhir-date-search.js';
import { HttpError } from '../../src/http/problem.js';

const range = (...values: string[]) => {
  const { since, before } = dateSearchRange('date', values);
  return { since: since?.toISOString(), before: before?.toISOString() };
};

describe('dateSearchRange', () => {
  it('reads a date without a prefix as the whole day in Stockholm', () => {
    expect(range('2026-03-12')).toEqual({ since: '2026-03-11T23:00:00.000Z', before: '2026-03-12T23:00:00.000Z' });
    // Summer time: midnight in Stockholm is 22:00 UTC.
    expect(range('eq2026-06-01')).toEqual({ since: '2026-05-31T22:00:00.000Z', before: '2026-06-01T22:00:00.000Z' });
    // The day summer time starts has 23 hours.
    expect(range('2026-03-29')).toEqual({ since: '2026-03-28T23:00:00.000Z', before: '2026-03-29T22:00:00.000Z' });
  });

  it('reads a year and a month as their whole span', () => {
    expect(range('2026')).toEqual({ since: '2025-12-31T23:00:00.000Z', before: '2026-12-31T23:00:00.000Z' });
    expect(range('2026-12')).toEqual({ since: '2026-11-30T23:00:00.000Z', before: '2026-12-31T23:00:00.000Z' });
  });

  it('reads a time to the minute, second or millisecond, in its own zone', () => {
    expect(range('2026-06-01T10:00Z')).toEqual({ since: '2026-06-01T10:00:00.000Z', before: '2026-06-01T10:01:00.000Z' });
    expect(range('2026-06-01T10:00:00+02:00')).toEqual({ since: '2026-06-01T08:00:00.000Z', before: '2026-06-01T08:00:01.000Z' });
    expect(range('2026-06-01T10:00:00.5Z')).toEqual({ since: '2026-06-01T10:00:00.500Z', before: '2026-06-01T10:00:00.600Z' });
    expect(range('2026-06-01T10:00:00.123-05:30')).toEqual({ since: '2026-06-01T15:30:00.123Z', before: '2026-06-01T15:30:00.124Z' });
    // No zone: Stockholm summer time.
    expect(range('2026-06-01T10:00')).toEqual({ since: '2026-06-01T08:00:00.000Z', before: '2026-06-01T08:01:00.000Z' });
  });

  it('opens one side for ge, gt, le, lt, sa and eb', () => {
    expect(range('ge2026-06-01T10:00:00Z')).toEqual({ since: '2026-06-01T10:00:00.000Z', before: undefined });
    expect(range('gt2026-06-01T10:00:00Z')).toEqual({ since: '2026-06-01T10:00:01.000Z', before: undefined });
    expect(range('sa2026')).toEqual({ since: '2026-12-31T23:00:00.000Z', before: undefined });
    expect(range('le2026-06-01T10:00:00Z')).toEqual({ since: undefined, before: '2026-06-01T10:00:01.000Z' });
    expect(range('lt2026-06-01T10:00:00Z')).toEqual({ since: undefined, before: '2026-06-01T10:00:00.000Z' });
    expect(range('eb2026-03')).toEqual({ since: undefined, before: '2026-02-28T23:00:00.000Z' });
  });

  it('narrows one range with every value given', () => {
    expect(range('ge2026-03-01T00:00:00+01:00', 'lt2026-04-01T00:00:00+02:00')).toEqual({ since: '2026-02-28T23:00:00.000Z', before: '2026-03-31T22:00:00.000Z' });
    expect(range('ge2026-01-01', 'ge2026-02-01', 'le2026-12-31', 'le2026-06-30')).toEqual({ since: '2026-01-31T23:00:00.000Z', before: '2026-06-30T22:00:00.000Z' });
    expect(range()).toEqual({ since: undefined, before: undefined });
  });

  it('answers 400 naming the value for what is not a date or a supported prefix', () => {
    for (const bad of ['ne2026', 'ap2026-01-01', '2026-13', '2026-02-30', '2026-06-01T25:00Z', '2026-06-01T10:00+15:00', '2026-06-01T10', 'yesterday', '26-01-01', '2026-06-01T10:00:00.1234Z']) {
      expect(() => dateSearchRange('date', [bad]), bad).toThrow(HttpError);
      expect(() => dateSearchRange('date', [bad]), bad).toThrow(`date=${bad}`);
    }
    expect(() => dateSearchRange('date', ['ge2026,le2027'])).toThrow(/give date twice for a period/);
  });
});

/**
 * A date search on a period (CarePlan.period): the closed example plan's, from the day it was
 * initiated, 2025-10-20 in Stockholm (summer time: 2025-10-19T22:00Z), until it was closed,
 * 2026-02-26T11:00:00+01:00 to the second (so up to 10:00:01Z).
 */
describe('datePeriodFilter', () => {
  const closed = { start: Date.parse('2025-10-19T22:00:00Z'), end: Date.parse('2026-02-26T10:00:01Z') };
  const open = { start: Date.parse('2025-10-19T22:00:00Z'), end: Infinity };
  const matches = (target: { start: number; end: number }, ...values: string[]) => datePeriodFilter('date', values)(target);

  it('eq: the value holds the whole period', () => {
    expect(matches(closed, '2025-10')).toBe(false);
    expect(matches(closed, 'eq2025')).toBe(false);
    expect(matches({ start: Date.parse('2025-10-19T22:00:00Z'), end: Date.parse('2025-10-31T10:00:00Z') }, '2025-10')).toBe(true);
    expect(matches(open, '2026')).toBe(false);
    // Two occurrences: both must hold it.
    expect(matches(closed, 'ge2025-10-20', 'le2026-02-26')).toBe(true);
    expect(matches(closed, 'ge2025-10-21', 'le2026-02-26')).toBe(true);
  });

  it('ge and gt: some of the period at or after the value’s start, or after its end', () => {
    expect(matches(closed, 'ge2026-02-26')).toBe(true);
    expect(matches(closed, 'ge2026-02-27')).toBe(false);
    expect(matches(closed, 'gt2026-02-25')).toBe(true);
    expect(matches(closed, 'gt2026-02-26')).toBe(false);
    // To the second: the period's last second is 11:00:00 in Stockholm.
    expect(matches(closed, 'ge2026-02-26T11:00:00+01:00')).toBe(true);
    expect(matches(closed, 'gt2026-02-26T11:00:00+01:00')).toBe(false);
    expect(matches(open, 'gt2099')).toBe(true);
  });

  it('le and lt: some of the period before the value’s end, or before its start', () => {
    expect(matches(closed, 'le2025-10-20')).toBe(true);
    expect(matches(closed, 'le2025-10-19')).toBe(false);
    expect(matches(closed, 'lt2025-10-21')).toBe(true);
    expect(matches(closed, 'lt2025-10-20')).toBe(false);
    expect(matches(open, 'lt2025-10-20')).toBe(false);
  });

  it('sa and eb: the whole period after the value, or before it', () => {
    expect(matches(closed, 'sa2025-10-19')).toBe(true);
    expect(matches(closed, 'sa2025-10-20')).toBe(false);
    expect(matches(closed, 'eb2026-02-27')).toBe(true);
    expect(matches(closed, 'eb2026-02-26')).toBe(false);
    expect(matches(open, 'eb2099')).toBe(false);
  });

  it('refuses a malformed value or an "or" with 400 naming it', () => {
    expect(() => datePeriodFilter('date', ['ge2026-13-01'])).toThrow(/date=ge2026-13-01: no such date/);
    expect(() => datePeriodFilter('date', ['2026,2027'])).toThrow(HttpError);
    expect(() => datePeriodFilter('date', ['ne2026'])).toThrow(/prefix ne is not supported/);
  });

  it('reads a stored date, dateTime or instant as the range its precision gives', () => {
    expect(valueRange('2026-02-26T11:00:00+01:00')).toEqual({ start: Date.parse('2026-02-26T10:00:00Z'), end: Date.parse('2026-02-26T10:00:01Z') });
    expect(valueRange('2025-10-20')).toEqual({ start: Date.parse('2025-10-19T22:00:00Z'), end: Date.parse('2025-10-20T22:00:00Z') });
    expect(valueRange('not a date')).toBeUndefined();
  });
});
