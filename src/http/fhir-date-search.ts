/**
 * FHIR date search (https://hl7.org/fhir/R4/search.html#date) on an instant, such as
 * `AuditEvent.recorded`: each value is a prefix and a date, dateTime or instant to any precision from
 * the year, and that precision makes it a range, [start, end). An instant `t` matches
 *
 * | prefix | when |
 * |---|---|
 * | `eq` (or none) | start ≤ t < end: within the range |
 * | `ge` | start ≤ t |
 * | `gt`, `sa` | end ≤ t: after the whole range |
 * | `le` | t < end |
 * | `lt`, `eb` | t < start: before the whole range |
 *
 * Several values (the parameter given more than once) must all match, so they narrow one range.
 * A value without a time zone is read in Europe/Stockholm, the server's zone ("where both search
 * parameters and resource element date times do not have time zones, the servers local time zone
 * should be assumed"). Fractions of a second go to the millisecond, the precision the log keeps.
 */
import { stockholmInstant } from '../sip/index.js';
import { HttpError } from './problem.js';

/** The instants that match: at or after `since`, strictly before `before`; either may be open. */
export interface InstantRange {
  readonly since?: Date;
  readonly before?: Date;
}

const PREFIXES = ['eq', 'ge', 'gt', 'le', 'lt', 'sa', 'eb'] as const;
type Prefix = (typeof PREFIXES)[number];

/** `YYYY[-MM[-DD[Thh:mm[:ss[.fff]][zone]]]]`, the forms R4's date search takes. */
const DATE_VALUE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The UTC offset of Stockholm at an instant, in milliseconds (+1 h in winter, +2 h in summer). */
function stockholmOffset(instant: number): number {
  const text = stockholmInstant(new Date(instant));
  const sign = text.at(-6) === '-' ? -1 : 1;
  return sign * (Number(text.slice(-5, -3)) * 60 + Number(text.slice(-2))) * 60_000;
}

/** The instant a Stockholm wall-clock time (given as if it were UTC) names. */
function fromStockholm(wallClock: number): number {
  const first = wallClock - stockholmOffset(wallClock);
  return wallClock - stockholmOffset(first);
}

/** Milliseconds since the epoch of a UTC date and time; unlike `Date.UTC`, years 0–99 are not read as 1900–1999. Fields overflow into the next. */
function utc(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, millisecond);
  return date.getTime();
}

interface Parsed {
  readonly prefix: Prefix;
  readonly start: number;
  readonly end: number;
}

function parseValue(name: string, text: string): Parsed {
  const found = PREFIXES.find((candidate) => text.startsWith(candidate));
  const prefix = found ?? 'eq';
  const value = found === undefined ? text : text.slice(2);
  const bad = (why: string): HttpError =>
    new HttpError(400, 'Bad Request', `${name}=${text}: ${why} (a date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm], after a prefix eq, ge, gt, le, lt, sa or eb)`);
  if (found === undefined && /^[a-z]{2}/.test(text)) throw bad(`the prefix ${text.slice(0, 2)} is not supported`);
  const match = DATE_VALUE.exec(value);
  if (match === null) throw bad('not a date');
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const parts = [Number(year), Number(month ?? 1), Number(day ?? 1), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0), Number((fraction ?? '0').padEnd(3, '0'))] as const;
  const [y, mo, d, h, mi, s, ms] = parts;
  const wall = utc(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (y < 1 || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw bad('no such date or time');
  // The next value at the same precision, on the same wall clock: the end of the range.
  const next =
    fraction !== undefined
      ? wall + 10 ** (3 - fraction.length)
      : second !== undefined
        ? wall + 1_000
        : minute !== undefined
          ? wall + 60_000
          : day !== undefined
            ? utc(y, mo - 1, d + 1)
            : month !== undefined
              ? utc(y, mo, 1)
              : utc(y + 1, 0, 1);
  if (zone === undefined) return { prefix, start: fromStockholm(wall), end: fromStockholm(next) };
  const sign = zone.startsWith('-') ? -1 : 1;
  const offset = zone === 'Z' ? 0 : sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4, 6)) > 59)) throw bad('no such time zone offset');
  return { prefix, start: wall - offset, end: next - offset };
}

/**
 * The range every value of a date parameter admits; values are the parameter's occurrences (a comma,
 * FHIR's "or", is refused: give the parameter twice for a period). 400 naming the value when one is
 * not a date or has a prefix other than eq, ge, gt, le, lt, sa, eb.
 */
export function dateSearchRange(name: string, values: readonly string[]): InstantRange {
  let since: number | undefined;
  let before: number | undefined;
  const from = (instant: number): void => {
    since = since === undefined ? instant : Math.max(since, instant);
  };
  const until = (instant: number): void => {
    before = before === undefined ? instant : Math.min(before, instant);
  };
  for (const text of values) {
    if (text.includes(',')) throw new HttpError(400, 'Bad Request', `${name}=${text}: one date a value; give ${name} twice for a period`);
    const { prefix, start, end } = parseValue(name, text);
    switch (prefix) {
      case 'eq':
        from(start);
        until(end);
        break;
      case 'ge':
        from(start);
        break;
      case 'gt':
      case 'sa':
        from(end);
        break;
      case 'le':
        until(end);
        break;
      case 'lt':
      case 'eb':
        until(start);
        break;
    }
  }
  return { ...(since === undefined ? {} : { since: new Date(since) }), ...(before === undefined ? {} : { before: new Date(before) }) };
}

/** A range of instants in milliseconds, [start, end): `-Infinity` / `Infinity` where a period is open. */
export interface TimeRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The range a stored date, dateTime or instant stands for at its own precision ("2026-03-01" is the
 * whole day, in Stockholm when no zone is written), or undefined for a text that is none of them.
 */
export function valueRange(text: string): TimeRange | undefined {
  try {
    const { start, end } = parseValue('value', text);
    return { start, end };
  } catch {
    return undefined;
  }
}

/** Does a target range match one search value? See {@link datePeriodFilter}. */
function periodMatches(target: TimeRange, { prefix, start, end }: Parsed): boolean {
  switch (prefix) {
    case 'eq':
      return start <= target.start && target.end <= end;
    case 'ge':
      return target.end > start;
    case 'gt':
      return target.end > end;
    case 'le':
      return target.start < end;
    case 'lt':
      return target.start < start;
    case 'sa':
      return target.start >= end;
    case 'eb':
      return target.end <= start;
  }
}

/**
 * A date search on a Period (CarePlan's `date` is `CarePlan.period`), after R4's rules for ranges
 * (https://hl7.org/fhir/R4/search.html#prefix): the search value and the target are both ranges, a
 * period's missing start or end open on that side ("the period is ongoing"). `eq` wants the value's
 * range to hold the whole target; `ge` some of the target at or after the value's start, `gt` after
 * its end; `le` some before its end, `lt` before its start; `sa` the whole target after the value,
 * `eb` the whole target before it. On an instant — a range of one moment — these are the rules of
 * {@link dateSearchRange}. Several occurrences must all match. 400 as {@link dateSearchRange} gives.
 */
export function datePeriodFilter(name: string, values: readonly string[]): (target: TimeRange) => boolean {
  const parsed = values.map((text) => {
    if (text.includes(',')) throw new HttpError(400, 'Bad Request', `${name}=${text}: one date a value; give ${name} twice for a period`);
    return parseValue(name, text);
  });
  return (target) => parsed.every((value) => periodMatches(target, value));
}
