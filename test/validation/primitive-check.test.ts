/**
 * `primitiveCheck` (src/validation/primitives.ts) is `checkPrimitive` with each type's questions
 * answered once, and its calendar check made without a Date: it must give the same answer for every
 * value of every R4 primitive type, with the regex the type's StructureDefinition gives and without one.
 * `checkPrimitive` is the oracle (the reference walker of the differential test still calls it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { basePackageDirectory, DefinitionStore, defaultProfileDirectory } from '../../src/validation/definitions.js';
import { checkPrimitive, primitiveCheck } from '../../src/validation/primitives.js';
import { compileTypeModel, PRIMITIVE_TYPES } from '../../src/validation/type-model.js';

const store = new DefinitionStore(basePackageDirectory(), defaultProfileDirectory());

/** The regex of a primitive type's `value`, as the walker takes it from the type's StructureDefinition. */
function regexOf(type: string): RegExp | undefined {
  const definition = store.typeDefinition(type);
  if (definition === undefined) throw new Error(`no StructureDefinition for ${type}`);
  return compileTypeModel(definition).root.children.get('value')?.regex;
}

const types = [...PRIMITIVE_TYPES].sort();
const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** Dates and dateTimes of every year from 0000 and every month and day from 00 up to 19 and 39: the calendar's edges and beyond. */
const dateLike = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 4, 100, 1900, 2000, 2100, 2024, 2025)),
    // Months and days near where the calendar's answer changes as often as anywhere else.
    fc.oneof(fc.integer({ min: 0, max: 19 }), fc.constantFrom(2, 4, 12, 13)),
    fc.oneof(fc.integer({ min: 0, max: 39 }), fc.constantFrom(28, 29, 30, 31, 32)),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 }), fc.constantFrom('Z', '+01:00', '-14:00', ''))),
  )
  .map(([year, month, day, time]) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${time === null ? '' : `T${pad(time[0], 2)}:${pad(time[1], 2)}:${pad(time[2], 2)}${time[3]}`}`);
const timeLike = fc.tuple(fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 })).map(([h, m, s]) => `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`);
const value = fc.oneof(
  dateLike,
  timeLike,
  fc.string(),
  fc.constantFrom('', ' ', '\t\n', ' x ', '<div xmlns="http://www.w3.org/1999/xhtml"> </div>', 'urn:uuid:5e123456-0e12-4e99-8e00-1e4005e99912', '2024', '2024-02', 'true'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 0 }),
);

describe('primitiveCheck', () => {
  it('answers as checkPrimitive for every value of every primitive type, with and without its regex', () => {
    const checks = types.map((type) => ({ type, regex: regexOf(type), withRegex: primitiveCheck(type, regexOf(type)), without: primitiveCheck(type, undefined) }));
    fc.assert(
      fc.property(value, (sample) => {
        for (const { type, regex, withRegex, without } of checks) {
          expect(withRegex(sample)).toEqual(checkPrimitive(type, sample, regex));
          expect(without(sample)).toEqual(checkPrimitive(type, sample, undefined));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses days the calendar does not have, in leap and common years, and passes the ones it has', () => {
    const date = primitiveCheck('date', regexOf('date'));
    const dateTime = primitiveCheck('dateTime', regexOf('dateTime'));
    // Month 13 and month 00 are refused by the types' regexes (without one, Date.UTC rolls them over, as checkPrimitive does).
    for (const day of ['2021-02-29', '1900-02-29', '2100-02-29', '2024-02-30', '2024-04-31', '2024-13-01', '2024-00-10']) {
      expect(dateTime(day)?.rule, day).toBe('invalid-value');
      expect(date(day)?.rule, day).toBe('invalid-value');
    }
    // Year 0004 is read by Date.UTC as 1904, a leap year like 4: passes either way.
    for (const day of ['2024-02-29', '2000-02-29', '2025-12-31', '0004-02-29', '2024-02-29T23:59:59+01:00']) {
      expect(date(day.slice(0, 10)), day).toBeUndefined();
      expect(dateTime(day), day).toBeUndefined();
    }
    expect(primitiveCheck('dateTime', undefined)('2024-02-28T24:00:00Z')?.message).toContain('no such day or time');
    expect(primitiveCheck('time', undefined)('23:60:00')?.message).toContain('is not a valid time');
  });
});
