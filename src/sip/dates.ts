/**
 * Calendar arithmetic for SIP rules. Every date rule (a consent's one-year limit, whether it has
 * expired, whether the person is a child) is decided on the calendar in Europe/Stockholm, the time
 * zone the plan's dates are written in; an instant is first turned into a Stockholm calendar date.
 */
import type { CalendarDate } from './identifiers.js';

export const SIP_TIME_ZONE = 'Europe/Stockholm';

const stockholmDateFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: SIP_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Reads the numeric fields of `instant` as `format` shows it. */
function numericParts(format: Intl.DateTimeFormat, instant: Date): (type: Intl.DateTimeFormatPartTypes) => number {
  const parts = format.formatToParts(instant);
  return (type) => Number(parts.find((part) => part.type === type)?.value);
}

const stockholmTimeFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: SIP_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

const HOUR = 3_600_000;
/**
 * Since 1980 Sweden has followed the EU rule, changing between CET and CEST at 01:00 UTC
 * (https://data.iana.org/time-zones/tzdb/europe, Zone Europe/Stockholm; Directive 2000/84/EC art. 2–3),
 * so its offset from UTC is the same throughout every whole UTC hour.
 */
const WHOLE_HOUR_OFFSETS_FROM = Date.UTC(1980, 0, 1);
/** Stockholm's offset from UTC (ms) in the UTC hours asked about, emptied when it holds this many. */
const MAX_REMEMBERED_HOURS = 4_096;
const offsetOfHour = new Map<number, number>();

const DAY = 86_400_000;
/**
 * From 1996 the EU's rule has been the one in force: summer time (UTC+2) from 01:00 UTC on the last
 * Sunday of March to 01:00 UTC on the last Sunday of October, UTC+1 otherwise (tzdb "europe",
 * `Rule EU 1981 max - Mar lastSun 1:00u 1:00 S` and `Rule EU 1996 max - Oct lastSun 1:00u 0 -`;
 * Directive 2000/84/EC art. 2–3). Computed here until 2100, so that an instant never asked before
 * costs no `Intl` call. Were the rule to change, Node's time zone data would differ from it, and
 * test/sip/dates.test.ts, which holds the two equal around every change of 1996–2099, would fail.
 */
const EU_RULE_FROM = Date.UTC(1996, 0, 1);
const EU_RULE_UNTIL = Date.UTC(2100, 0, 1);

/** 01:00 UTC on the last Sunday of `month` (0 for January) of `year`, in ms since the epoch. */
function lastSundayAtOneUtc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0);
  // 1970-01-01 was a Thursday: day n since the epoch is weekday (n + 4) mod 7, 0 being Sunday.
  const weekday = (Math.floor(lastDay / DAY) + 4) % 7;
  return lastDay - weekday * DAY + HOUR;
}

/** A UTC year's bounds and its summer time's, by the EU rule. */
interface RuleYear {
  readonly from: number;
  readonly until: number;
  readonly summerFrom: number;
  readonly summerUntil: number;
}

function ruleYearOf(year: number): RuleYear {
  return { from: Date.UTC(year, 0, 1), until: Date.UTC(year + 1, 0, 1), summerFrom: lastSundayAtOneUtc(year, 2), summerUntil: lastSundayAtOneUtc(year, 9) };
}

/**
 * The year last asked about: a judgement asks for the same instant several times, and the plans of a
 * search page at one instant, so the year's changes are worked out when the year changes, not at
 * every call (they were 3 % of a deep search page's samples). One year, whatever the data; it starts
 * at the rule's first, and the first instant of another year replaces it.
 */
let lastRuleYear: RuleYear = ruleYearOf(1996);

/** Stockholm's offset from UTC (ms) by the EU rule, for an instant from {@link EU_RULE_FROM} to {@link EU_RULE_UNTIL}. */
function offsetByEuRule(time: number): number {
  let year = lastRuleYear;
  if (!(time >= year.from && time < year.until)) {
    year = ruleYearOf(new Date(time).getUTCFullYear());
    lastRuleYear = year;
  }
  return time >= year.summerFrom && time < year.summerUntil ? 2 * HOUR : HOUR;
}

/**
 * Stockholm's offset from UTC at `instant`, in ms: by the EU rule from 1996 to 2099
 * ({@link offsetByEuRule}); else as Intl's time zone data has it, asked once per UTC hour
 * (`Intl.DateTimeFormat#formatToParts` was a tenth of the server's time, called for every consent of
 * every plan judged). Undefined before 1980 (and for an invalid date), where the caller asks Intl.
 */
function stockholmOffset(instant: Date): number | undefined {
  const time = instant.getTime();
  if (time >= EU_RULE_FROM && time < EU_RULE_UNTIL) return offsetByEuRule(time);
  if (!(time >= WHOLE_HOUR_OFFSETS_FROM)) return undefined;
  const hour = Math.floor(time / HOUR);
  let offset = offsetOfHour.get(hour);
  if (offset === undefined) {
    const get = numericParts(stockholmTimeFormat, new Date(hour * HOUR));
    offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - hour * HOUR;
    if (offsetOfHour.size >= MAX_REMEMBERED_HOURS) offsetOfHour.clear();
    offsetOfHour.set(hour, offset);
  }
  return offset;
}

/**
 * Stockholm's wall-clock time at `instant`, as a Date whose UTC fields are the local date and time;
 * undefined before 1980 and for an invalid date, where only Intl knows it.
 */
export function stockholmWallClock(instant: Date): Date | undefined {
  const offset = stockholmOffset(instant);
  return offset === undefined ? undefined : new Date(instant.getTime() + offset);
}

/** The calendar date in Europe/Stockholm at the given instant. */
export function stockholmDate(instant: Date): CalendarDate {
  const local = stockholmWallClock(instant);
  if (local !== undefined) return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
  const get = numericParts(stockholmDateFormat, instant);
  return { year: get('year'), month: get('month'), day: get('day') };
}

/**
 * The instant as Stockholm wall-clock time with its UTC offset, `YYYY-MM-DDThh:mm:ss+01:00` in winter
 * and `+02:00` in summer (milliseconds only when there are any), so that its first ten characters are
 * the Stockholm calendar date: FHIRPath rules that compare dates by their text see the same day as
 * the SIP rules do.
 */
export function stockholmInstant(instant: Date): string {
  const local = stockholmWallClock(instant);
  let date: CalendarDate;
  let hour: number;
  let minute: number;
  let second: number;
  if (local === undefined) {
    const get = numericParts(stockholmTimeFormat, instant);
    date = { year: get('year'), month: get('month'), day: get('day') };
    [hour, minute, second] = [get('hour'), get('minute'), get('second')];
  } else {
    date = { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
    [hour, minute, second] = [local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds()];
  }
  const milliseconds = instant.getUTCMilliseconds();
  const offsetMinutes = Math.round((Date.UTC(date.year, date.month - 1, date.day, hour, minute, second, milliseconds) - instant.getTime()) / 60_000);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const fraction = milliseconds === 0 ? '' : `.${pad(milliseconds, 3)}`;
  const offset = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${formatDate(date)}T${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}${offset}`;
}

/** The number the ASCII digits of `text` from `start` to `end` write, or -1 when one is not a digit. */
function digitsAt(text: string, start: number, end: number): number {
  let value = 0;
  for (let at = start; at < end; at++) {
    const digit = text.charCodeAt(at) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses `YYYY-MM-DD` (already validated by the schema). Every consent judged at a read parses its
 * dates, several times over (docs/performance.md, "Dates read digit by digit"): a date of that exact form
 * is read digit by digit, without the arrays `split` and `map` make; any other text as before, each
 * part between dashes read by `Number` (test/sip/dates.test.ts holds the two equal).
 */
export function parseDate(iso: string): CalendarDate {
  if (iso.length === 10 && iso.charCodeAt(4) === 0x2d && iso.charCodeAt(7) === 0x2d) {
    const year = digitsAt(iso, 0, 4);
    const month = digitsAt(iso, 5, 7);
    const day = digitsAt(iso, 8, 10);
    if (year >= 0 && month >= 0 && day >= 0) return { year, month, day };
  }
  const [year, month, day] = iso.split('-').map(Number);
  return { year: year ?? NaN, month: month ?? NaN, day: day ?? NaN };
}

/** `YYYY-MM-DD`. */
export function formatDate(date: CalendarDate): string {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** Negative when `a` is before `b`, zero when equal, positive when after. */
export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The same day `years` later; 29 February becomes 28 February in a year that has no leap day, so a
 * consent given on 29 February 2028 may last until 28 February 2029 and no longer.
 */
export function addYears(date: CalendarDate, years: number): CalendarDate {
  const year = date.year + years;
  return { year, month: date.month, day: Math.min(date.day, daysInMonth(year, date.month)) };
}

/** Whole years of age on `on`, counted on the calendar (a birthday counts from its first day). */
export function ageOn(birthDate: CalendarDate, on: CalendarDate): number {
  const hadBirthday = on.month > birthDate.month || (on.month === birthDate.month && on.day >= birthDate.day);
  return on.year - birthDate.year - (hadBirthday ? 0 : 1);
}

/** Age of majority in Sweden (Föräldrabalken 9 kap. 1 §): below it a person is a child. */
export const AGE_OF_MAJORITY = 18;
