/** The one JSON reader (src/sip/json-text.ts) and the UTF-8 check in front of it (src/cli/files.ts). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from '../../src/cli/files.js';
import { DEFAULT_MAPPING_OPTIONS, planToBundle } from '../../src/fhir/index.js';
import { parsePlanText } from '../../src/sip/index.js';
import { visit } from 'jsonc-parser';
import { lineAndColumn, mayHoldOutOfRange, mayRepeatName, outOfRangeNumber, parseJson, repeatedName } from '../../src/sip/json-text.js';

describe('outOfRangeNumber', () => {
  it('finds a number beyond ±1.8e308, however it is written, and where', () => {
    expect(outOfRangeNumber('{"a": 1e400}')).toEqual({ offset: 6, number: '1e400' });
    expect(outOfRangeNumber('[1, -1.5E+309]')).toEqual({ offset: 4, number: '-1.5E+309' });
    expect(outOfRangeNumber(`[${'9'.repeat(310)}]`)).toEqual({ offset: 1, number: '9'.repeat(310) });
    expect(outOfRangeNumber(`[${'9'.repeat(250)}e99]`)?.offset).toBe(1);
  });

  it('passes what a double holds, numbers too small for one (they become 0), and digits inside strings', () => {
    expect(outOfRangeNumber('[1.7976931348623157e308, -1e308, 1e-400, 1e0300]')).toBeUndefined();
    expect(outOfRangeNumber('{"a": "1e400", "b\\"1e999": "\\\\", "c": 2}')).toBeUndefined();
  });
});

describe('outOfRangeNumber on generated texts', () => {
  /** Whether a parsed value holds ±Infinity: what JSON.parse made of a number beyond a double. The oracle, independent of the scan. */
  const holdsInfinity = (value: unknown): boolean =>
    typeof value === 'number' ? !Number.isFinite(value) : typeof value === 'object' && value !== null ? Object.values(value).some(holdsInfinity) : false;

  /** A JSON number as text, often with an exponent of two to four digits and mantissas up to 230 digits. */
  const numberText = fc
    .tuple(
      fc.boolean(),
      fc.oneof(fc.integer({ min: 0, max: 9 }).map(String), fc.stringMatching(/^[1-9][0-9]{0,229}$/)),
      fc.option(fc.stringMatching(/^[0-9]{1,20}$/)),
      fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,4}$/))),
    )
    .map(([negative, whole, fraction, exponent]) => `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : exponent.join('')}`);
  /** A string whose content looks like numbers, HSA-ids and uuids (JSON-escaped). */
  const stringText = fc
    .array(fc.oneof(numberText, fc.constantFrom('SE2321000180-1000', 'urn:uuid:5e123456-0e12-4e99-8e00-1e400a', ', ', ': ', '[', '\\"', 'x')), { maxLength: 6 })
    .map((parts) => `"${parts.join('')}"`);
  const space = fc.constantFrom('', ' ', '\n', '\t ');
  const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      numberText,
      stringText,
      fc.array(fc.tuple(space, tie('value'), space), { maxLength: 4 }).map((items) => `[${items.map((item) => item.join('')).join(',')}]`),
      // Keys of their own (JSON.parse keeps the last of a repeated key, which would hide a value from the oracle), each after a string that reads like numbers.
      fc.array(fc.tuple(stringText, space, tie('value')), { maxLength: 4 }).map((members) => `{${members.map(([key, gap, value], index) => `"${String(index)}${key.slice(1)}:${gap}${value}`).join(',')}}`),
    ),
  })).value;

  it('finds a number out of range exactly when JSON.parse makes ±Infinity of one', () => {
    fc.assert(
      fc.property(space, valueText, space, (before, text, after) => {
        const whole = `${before}${text}${after}`;
        expect(outOfRangeNumber(whole) !== undefined).toBe(holdsInfinity(JSON.parse(whole)));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds a number out of range beside HSA-ids and uuids that hold exponent-like runs, and passes them alone', () => {
    const text = '{"identifier":[{"system":"urn:oid:1.2.752.29.4.19","value":"SE2321000180-1000"}],"fullUrl":"urn:uuid:5e123456-0e12-4e99-8e00-1e4005e99912","n":[1e308, 2E300]}';
    expect(outOfRangeNumber(text)).toBeUndefined();
    expect(outOfRangeNumber(text.replace('2E300', '2E+309'))).toEqual({ offset: text.indexOf('2E300'), number: '2E+309' });
  });
});

/** Each example plan as its file has it, as a client would send it (compact), and its FHIR Bundle as the server is sent one: HSA-ids and uuids throughout. */
const EXAMPLES = readdirSync('examples')
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => {
    const file = readFileSync(join('examples', name), 'utf8');
    const parsed = parsePlanText(file);
    return parsed.ok ? [{ file, plan: JSON.stringify(parsed.plan), bundle: JSON.stringify(planToBundle(parsed.plan, DEFAULT_MAPPING_OPTIONS)) }] : [];
  });

describe('mayHoldOutOfRange: the look before the exact scan', () => {
  const texts = EXAMPLES.flatMap(({ file, bundle }) => [file, bundle]);

  it('lets the examples and their Bundles through without the scan, though the expression alone matches each (their HSA-ids)', () => {
    expect(texts.length).toBeGreaterThanOrEqual(16);
    for (const text of texts) {
      expect(/[eE]\+?\d{3}/.test(text)).toBe(true);
      expect(mayHoldOutOfRange(text)).toBe(false);
    }
  });

  it('sends a number with a long exponent to the scan wherever a value can begin', () => {
    for (const text of ['1e400', ' 1e400', '[1e400]', '[1, 1e400]', '[1,\n\t-2.5E+400]', '{"a":1e400}', '{"a" : \n 1e400}', '{"a": [{"b": 1.0e308}]}', `[${'9'.repeat(200)}]`]) {
      expect(mayHoldOutOfRange(text)).toBe(true);
    }
    for (const text of ['"SE2321000180-1000"', '{"a": "urn:uuid:2e000052-d181"}', '{"a": "x1e400"}', '[1e99, 12]']) {
      expect(mayHoldOutOfRange(text)).toBe(false);
    }
  });

  it('finds 200 digits in a row wherever they start, and passes 199', () => {
    for (let offset = 0; offset <= 401; offset++) {
      const before = ' '.repeat(offset);
      expect(mayHoldOutOfRange(`[${before}${'9'.repeat(200)}]`)).toBe(true);
      expect(mayHoldOutOfRange(`[${before}${'9'.repeat(199)}, 1${'0'.repeat(150)}]`)).toBe(false);
    }
  });
});

describe('parseJson', () => {
  it('refuses a number out of range with its line and column, in the file (an .ndjson line starts lower)', () => {
    expect(parseJson('{\n  "n": 1e400\n}')).toEqual({ ok: false, message: expect.stringContaining('Malformed JSON at line 2, column 8: number out of range: 1e400') as unknown });
    expect(parseJson('[1e999]', 7)).toEqual({ ok: false, message: expect.stringContaining('at line 7, column 2') as unknown });
  });

  it('gives the value of valid JSON', () => {
    expect(parseJson('{"a": [1, "x", null]}')).toEqual({ ok: true, value: { a: [1, 'x', null] } });
  });
});

describe('a property given twice in one object', () => {
  it('is refused with its line, column and JSON pointer, wherever it is', () => {
    expect(parseJson('{"resourceType":"Patient","active":true,"active":false}')).toEqual({
      ok: false,
      message: 'Malformed JSON at line 1, column 41: the property "active" is given twice in one object (at /active); JSON readers would keep only one of the two values',
      pointer: '/active',
    });
    expect(parseJson('{\n  "name": [\n    {"family": "Berg"},\n    {"given": ["Åsa"], "given": ["Eva"]}\n  ]\n}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('at line 4, column 24: the property "given" is given twice in one object (at /name/1/given)') as unknown,
      pointer: '/name/1/given',
    });
    // The same name written two ways, with whitespace before the colon; names that need escaping in a pointer (RFC 6901).
    expect(parseJson('{"a": 1, "\\u0061" : 2}')).toMatchObject({ ok: false, pointer: '/a' });
    expect(parseJson('{"x/y": {"~": 1, "~": 2}}')).toMatchObject({ ok: false, pointer: '/x~1y/~0' });
    // An .ndjson line starts lower in its file.
    expect(parseJson('{"a":1,"a":2}', 9)).toMatchObject({ ok: false, message: expect.stringContaining('at line 9, column 8') as unknown });
  });

  it('is told from the same name in sibling objects, in nested objects, and from "\\":" inside strings', () => {
    const text = '{"a": {"a": 1}, "b": [{"c": 1}, {"c": 2}], "d": "he said \\": ok\\"", "e" :{"a": "\\":"}}';
    expect(mayRepeatName(text, JSON.parse(text))).toBe(true);
    expect(repeatedName(text)).toBeUndefined();
    expect(parseJson(text)).toMatchObject({ ok: true });
  });

  it('lets the examples and their Bundles through on the quick look alone', () => {
    const texts = EXAMPLES.flatMap(({ plan, bundle }) => [plan, bundle]);
    expect(texts.length).toBeGreaterThanOrEqual(16);
    for (const text of texts) expect(mayRepeatName(text, JSON.parse(text))).toBe(false);
  });

  /** The offset of the first repeated name's second occurrence, by jsonc-parser (Microsoft's, not this project's): the oracle. */
  const firstRepeat = (text: string): number | undefined => {
    const open: Set<string>[] = [];
    let found: number | undefined;
    visit(text, {
      onObjectBegin: () => {
        open.push(new Set());
      },
      onObjectEnd: () => {
        open.pop();
      },
      onObjectProperty: (name, offset) => {
        const names = open[open.length - 1];
        if (names === undefined) return;
        if (names.has(name) && found === undefined) found = offset;
        names.add(name);
      },
    });
    return found;
  };

  /** Names from a few letters (so they repeat often), some escaped, some with a quote and colon in them; whitespace and strings that hold `":`. */
  const name = fc.constantFrom('"a"', '"b"', '"\\u0061"', '"a\\":"', '"x/y"', '"c"');
  const space = fc.constantFrom('', ' ', '\n', '\t ');
  const scalar = fc.constantFrom('1', 'true', 'null', '"v"', '"he said \\": no"', '"\\"\\":"', '"a"');
  const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(fc.tuple(space, tie('value')), { maxLength: 4 }).map((items) => `[${items.map((item) => item.join('')).join(',')}]`),
      fc.array(fc.tuple(name, space, space, tie('value')), { maxLength: 4 }).map((members) => `{${members.map(([key, before, after, value]) => `${key}${before}:${after}${value}`).join(',')}}`),
    ),
  })).value;

  it('is found exactly where jsonc-parser finds it, and the quick look never misses one', () => {
    fc.assert(
      fc.property(valueText, (text) => {
        const expected = firstRepeat(text);
        const parsed = parseJson(text);
        if (expected === undefined) {
          expect(parsed.ok).toBe(true);
          return;
        }
        expect(mayRepeatName(text, JSON.parse(text))).toBe(true);
        expect(repeatedName(text)?.offset).toBe(expected);
        const { line, column } = lineAndColumn(text, expected);
        expect(parsed).toMatchObject({ ok: false, message: expect.stringContaining(`at line ${String(line)}, column ${String(column)}: the property`) as unknown });
      }),
      { numRuns: 3000 },
    );
  });
});

describe('firstInvalidUtf8', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

  it('names the first byte of the first ill-formed sequence', () => {
    expect(firstInvalidUtf8(bytes(0x61, 0xc3, 0x28))).toBe(1); // a lead byte without its continuation
    expect(firstInvalidUtf8(bytes(0x61, 0x80))).toBe(1); // a continuation byte alone
    expect(firstInvalidUtf8(bytes(0xc0, 0xaf))).toBe(0); // an overlong "/"
    expect(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80))).toBe(0); // a UTF-16 surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // past U+10FFFF
    expect(firstInvalidUtf8(bytes(0x61, 0xe2, 0x82))).toBe(1); // cut short at the end
  });

  it('passes well-formed UTF-8, Swedish and beyond the BMP', () => {
    expect(firstInvalidUtf8(new TextEncoder().encode('Åsa Öberg, Ängelholm 😀'))).toBeUndefined();
  });
});
