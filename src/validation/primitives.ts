/**
 * Checks of a primitive value's JSON form (https://hl7.org/fhir/R4/json.html#primitive): the JSON
 * type, the type's regex from its StructureDefinition (`<type>.value`, extension
 * `http://hl7.org/fhir/StructureDefinition/regex`) and, for dates, that the day exists — the R4
 * regexes accept `2020-02-30`, while the datatypes page says a date "SHALL be a valid date".
 */

/** JSON numbers for these, booleans for `boolean`, strings for every other primitive. */
const NUMBER_TYPES: ReadonlySet<string> = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);
const INTEGER_TYPES: ReadonlySet<string> = new Set(['integer', 'positiveInt', 'unsignedInt']);
const DATE_TYPES: ReadonlySet<string> = new Set(['date', 'dateTime', 'instant']);

export type PrimitiveProblem = { readonly rule: 'invalid-type' | 'invalid-value'; readonly message: string };

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Whether a date's (or dateTime's) year-month-day part names a day of the calendar. */
function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (match === null) return true;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return day <= daysIn(year, month);
}

/** Whether a time's hours, minutes and seconds exist (the regexes allow 24:00 … only in some types). */
function isClockTime(text: string): boolean {
  const match = /(?:^|T)(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
  if (match === null) return true;
  return Number(match[1]) < 24 && Number(match[2]) < 60 && Number(match[3] ?? 0) < 60;
}

/** The problem with a primitive value of `type`, or `undefined` when it is well formed. */
export function checkPrimitive(type: string, value: unknown, regex: RegExp | undefined): PrimitiveProblem | undefined {
  const actual = jsonTypeOf(value);
  const expected = type === 'boolean' ? 'boolean' : NUMBER_TYPES.has(type) ? 'number' : 'string';
  if (actual !== expected) {
    return { rule: 'invalid-type', message: `a ${type} must be a JSON ${expected}, not ${actual === 'string' ? `the string ${JSON.stringify(value)}` : `a${actual === 'array' || actual === 'object' ? 'n' : ''} ${actual}`}` };
  }
  if (typeof value === 'number') {
    if (INTEGER_TYPES.has(type) && !Number.isInteger(value)) return { rule: 'invalid-value', message: `${String(value)} is not an ${type}` };
    if (type === 'positiveInt' && value < 1) return { rule: 'invalid-value', message: `${String(value)} is not a positiveInt (1 or more)` };
    if (type === 'unsignedInt' && value < 0) return { rule: 'invalid-value', message: `${String(value)} is not an unsignedInt (0 or more)` };
    if (INTEGER_TYPES.has(type) && (value > 2147483647 || value < -2147483648)) return { rule: 'invalid-value', message: `${String(value)} is outside the 32-bit range of an ${type}` };
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (regex !== undefined && !regex.test(value)) {
    return { rule: 'invalid-value', message: `${JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value)} is not a valid ${type}` };
  }
  if (value.trim() === '' && type !== 'xhtml') return { rule: 'invalid-value', message: `a ${type} must not be empty or only white space` };
  if (DATE_TYPES.has(type) && !(isCalendarDate(value) && isClockTime(value))) {
    return { rule: 'invalid-value', message: `${JSON.stringify(value)} is not a valid ${type}: there is no such day or time` };
  }
  if (type === 'time' && !isClockTime(value)) return { rule: 'invalid-value', message: `${JSON.stringify(value)} is not a valid time` };
  return undefined;
}

/** A check of one primitive type's values, made once per type: {@link checkPrimitive} with the type's questions answered beforehand. */
export type PrimitiveCheck = (value: unknown) => PrimitiveProblem | undefined;

/** The days of each month of a common year; February of a leap year has 29. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * {@link checkPrimitive} for values of `type`, with the type's expected JSON type, its regex and which
 * of the date and time checks apply worked out once: the walk checks every primitive it meets, most of
 * them strings of a handful of types. Gives the same answer as `checkPrimitive(type, value, regex)`
 * for every value (test/validation/primitive-check.test.ts).
 */
export function primitiveCheck(type: string, regex: RegExp | undefined): PrimitiveCheck {
  const expected = type === 'boolean' ? 'boolean' : NUMBER_TYPES.has(type) ? 'number' : 'string';
  if (expected !== 'string') return (value) => checkPrimitive(type, value, regex);
  const isDate = DATE_TYPES.has(type);
  const isTime = type === 'time';
  const mayBeBlank = type === 'xhtml';
  return (value) => {
    if (typeof value !== 'string') return checkPrimitive(type, value, regex);
    if (regex !== undefined && !regex.test(value)) return checkPrimitive(type, value, regex);
    if (!mayBeBlank && value.trim() === '') return checkPrimitive(type, value, regex);
    if (isDate && !isCalendarDay(value)) return checkPrimitive(type, value, regex);
    if ((isDate || isTime) && !isClockTime(value)) return checkPrimitive(type, value, regex);
    return undefined;
  };
}

/**
 * {@link isCalendarDate} without a Date for the years and months of the Gregorian calendar that
 * `Date.UTC` takes as they are: it reads the years 0–99 as 1900–1999 and rolls a month outside 1–12
 * into another year, so those are left to it.
 */
function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (match === null) return true;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (year < 100 || month < 1 || month > 12) return isCalendarDate(text);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return Number(match[3]) <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1] ?? 0);
}
