/**
 * JSON text to a value, with every failure located by line and column: the one JSON reader behind
 * the library's `parseJsonText` and every command of the CLI. It depends only on problem.ts's JSON
 * pointers, which import nothing, so the `validate` command can use it without loading the SIP model.
 */
import { toPointer } from './problem.js';

/**
 * The parsed value, or why the text is not acceptable JSON, located in the file; where the fault is a
 * member of the parsed document (a property given twice), also its JSON pointer.
 */
export type JsonText = { ok: true; value: unknown } | { ok: false; message: string; pointer?: string };

/** How many characters V8 quotes on either side of an unexpected token. */
const V8_CONTEXT = 10;

/**
 * The character offset of a `JSON.parse` error in `text`. V8 gives "at position N" for most errors,
 * but for an unexpected token only a quoted snippet around it (`..."snippet"...`, up to ten
 * characters either side); the offset is recovered from the snippet (V8's `JsonParser::ReportUnexpectedToken`
 * cuts it at the start, at the end, on both sides, or not at all for a short text). End of input is
 * the text's end.
 */
export function jsonErrorOffset(message: string, text: string): number | undefined {
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return Number(position);
  if (message.startsWith('Unexpected end of JSON input')) return text.length;
  const token = /^Unexpected token '(.{1,2})', (\.\.\.)?"(.*)"(\.\.\.)? is not valid JSON$/s.exec(message);
  if (token === null) return undefined;
  const [, character = '', cutBefore, snippet = '', cutAfter] = token;
  if (cutBefore === undefined && cutAfter === undefined) return Math.max(0, text.indexOf(character));
  if (cutBefore === undefined) return snippet.length - V8_CONTEXT;
  if (cutAfter === undefined) return text.length - snippet.length + V8_CONTEXT;
  // Cut on both sides: the token sits ten characters into the snippet, which a string before it may
  // hold too. Only the real one ends a prefix that is valid JSON but for a missing value; a prefix
  // ending inside a string is an unterminated string.
  let first: number | undefined;
  for (let at = text.indexOf(snippet); at >= 0; at = text.indexOf(snippet, at + 1)) {
    const offset = at + V8_CONTEXT;
    first ??= offset;
    if (!insideString(text, offset)) return offset;
  }
  return first;
}

/** Whether `offset` is inside a string of JSON text that is valid up to there. */
function insideString(text: string, offset: number): boolean {
  try {
    JSON.parse(text.slice(0, offset));
    return false;
  } catch (error) {
    return error instanceof Error && error.message.startsWith('Unterminated string');
  }
}

/** Line and column (both from 1; columns count UTF-16 code units) of a character offset in `text`. */
export function lineAndColumn(text: string, offset: number, firstLine = 1): { line: number; column: number } {
  const before = text.slice(0, offset);
  const newlines = before.split('\n').length - 1;
  return { line: firstLine + newlines, column: offset - before.lastIndexOf('\n') };
}

/**
 * Where a text may hold a number beyond ±1.8e308: an exponent of three digits or more, or
 * {@link LONG_RUN} digits in a row (an exponent of at most 99 needs more than 209 digits before it to
 * overflow). Each is looked for apart, since one expression with both alternatives made V8 try every
 * digit of the text as a start (as slow as the exact scan), and each exponent-like match is looked at
 * ({@link mayBeExponent}): the exact scan below runs only where a number may be.
 */
const LONG_EXPONENT = /[eE]\+?\d{3}/g;

/** Digits in a row that may, without an exponent of three digits, make a number beyond a double. */
const LONG_RUN = 200;

/** JSON's whitespace (https://www.rfc-editor.org/rfc/rfc8259#section-2). */
function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** A character of a number token before its exponent: a digit, the fraction's point, the sign. */
function isMantissaCharacter(code: number): boolean {
  return isDigit(code) || code === 0x2e || code === 0x2d;
}

/**
 * Whether the `e` or `E` at `at` of valid JSON `text` can be a number's exponent: a mantissa of
 * digits before it, and before that, past whitespace, where a value begins — the text's start, `[`,
 * `,`, or the `:` after a member's name (its closing quote, past whitespace). Every number of the text
 * passes; an HSA-id (`SE2321000180-1000`, a letter before the `E`) or a uuid after `urn:uuid:` (a
 * letter before the `:`), which every SIP Bundle holds, does not.
 */
function mayBeExponent(text: string, at: number): boolean {
  let start = at;
  while (start > 0 && isMantissaCharacter(text.charCodeAt(start - 1))) start -= 1;
  if (start === at) return false;
  let before = start - 1;
  while (before >= 0 && isJsonSpace(text.charCodeAt(before))) before -= 1;
  if (before < 0) return true;
  const code = text.charCodeAt(before);
  if (code === 0x5b /* [ */ || code === 0x2c /* , */) return true;
  if (code !== 0x3a /* : */) return false;
  let name = before - 1;
  while (name >= 0 && isJsonSpace(text.charCodeAt(name))) name -= 1;
  return name >= 0 && text.charCodeAt(name) === 0x22; /* " */
}

/**
 * Whether `text` has {@link LONG_RUN} digits in a row. Any LONG_RUN characters in a row hold one whose
 * offset is LONG_RUN − 1 more than a multiple of LONG_RUN, so only those are looked at, and the run
 * around each digit found there measured.
 */
function hasLongDigitRun(text: string): boolean {
  for (let at = LONG_RUN - 1; at < text.length; at += LONG_RUN) {
    if (!isDigit(text.charCodeAt(at))) continue;
    let start = at;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start -= 1;
    let end = at + 1;
    while (end < text.length && isDigit(text.charCodeAt(end))) end += 1;
    if (end - start >= LONG_RUN) return true;
  }
  return false;
}

/**
 * Whether valid JSON `text` may hold a number a double cannot. Every SIP Bundle held an exponent-like
 * run (its HSA-ids), and the exact scan then cost a third of `JSON.parse`'s time (docs/performance.md,
 * "The JSON reader's look for huge numbers").
 */
export function mayHoldOutOfRange(text: string): boolean {
  if (hasLongDigitRun(text)) return true;
  LONG_EXPONENT.lastIndex = 0;
  for (let match = LONG_EXPONENT.exec(text); match !== null; match = LONG_EXPONENT.exec(text)) {
    if (mayBeExponent(text, match.index)) return true;
  }
  return false;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The offset and text of the first number in valid JSON `text` that a double cannot hold (which
 * `JSON.parse` silently turns into ±Infinity). Strings are skipped, so digits in them never count.
 * A number too small for a double (`1e-400`) becomes 0, as in every JSON reader, and passes.
 */
export function outOfRangeNumber(text: string): { offset: number; number: string } | undefined {
  if (!mayHoldOutOfRange(text)) return undefined;
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === 0x22 /* " */) {
      at = stringEnd(text, at);
    } else if (code === 0x2d /* - */ || (code >= 0x30 && code <= 0x39)) {
      NUMBER.lastIndex = at;
      const number = NUMBER.exec(text)?.[0] ?? text.charAt(at);
      if (!Number.isFinite(Number(number))) return { offset: at, number };
      at += number.length;
    } else {
      at += 1;
    }
  }
  return undefined;
}

/** The offset just after the string that starts with the quote at `start` (the text is valid JSON). */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote > 0) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

/**
 * The object members of a parsed JSON value, counted: what `JSON.parse` kept, one per distinct name of
 * each object.
 */
function memberCount(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item as unknown[]) if (typeof element === 'object' && element !== null) pending.push(element);
      continue;
    }
    for (const name in item) {
      count += 1;
      const member = (item as Record<string, unknown>)[name];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return count;
}

/** How many times a quote is followed at once by a colon: once for every member name so written, and once for each `\":` inside a string. */
function quoteColonCount(text: string): number {
  let count = 0;
  for (let at = text.indexOf('":'); at >= 0; at = text.indexOf('":', at + 2)) count += 1;
  return count;
}

/** A quote, whitespace, a colon: a member name written with whitespace before its colon (or such text inside a string). */
const SPACE_BEFORE_COLON = /"[ \t\r\n]+:/;

/**
 * Whether valid JSON `text`, parsed as `value`, may give one object a member name twice, which
 * `JSON.parse` takes silently, keeping the last. Without whitespace before any colon, every member
 * name adds one to {@link quoteColonCount}, so a count equal to the members `JSON.parse` kept means
 * that no name was dropped. Two passes of native string search and one walk of the value: ≈ 0.11 ms
 * on a 63 kB SIP Bundle, a fifth of `JSON.parse`'s time or less, where the exact scan
 * ({@link repeatedName}) takes about as long as `JSON.parse` (docs/performance.md, "What the JSON
 * reader's look for a repeated property costs").
 */
export function mayRepeatName(text: string, value: unknown): boolean {
  return SPACE_BEFORE_COLON.test(text) || quoteColonCount(text) !== memberCount(value);
}

/**
 * The first member name that valid JSON `text` gives twice in one object: the offset of its second
 * occurrence, the name (escapes decoded, so `"\u0061"` repeats `"a"`), and the JSON pointer of the
 * member it repeats. RFC 8259 §4 asks that names be unique and leaves what a reader does with a
 * repeated one open; `JSON.parse` keeps the last. FHIR's JSON has every property once
 * (https://hl7.org/fhir/R4/json.html), and the HL7 validator refuses a repeated one
 * (`DUPLICATE_JSON_PROPERTY`), so the project's reader refuses it too.
 */
export function repeatedName(text: string): { offset: number; name: string; pointer: string } | undefined {
  /** Each open object (its names so far) or array, with the member or element being read in it. */
  const scopes: { readonly names: Set<string> | undefined; step: number | string }[] = [];
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code === 0x22 /* " */) {
      const end = stringEnd(text, at);
      const scope = scopes[scopes.length - 1];
      let next = end;
      while (isJsonSpace(text.charCodeAt(next))) next += 1;
      if (scope?.names !== undefined && text.charCodeAt(next) === 0x3a /* : */) {
        const name = JSON.parse(text.slice(at, end)) as string;
        if (scope.names.has(name)) {
          return { offset: at, name, pointer: toPointer([...scopes.slice(0, -1).map((open) => open.step), name]) };
        }
        scope.names.add(name);
        scope.step = name;
      }
      at = end;
      continue;
    }
    if (code === 0x7b /* { */) scopes.push({ names: new Set(), step: '' });
    else if (code === 0x5b /* [ */) scopes.push({ names: undefined, step: 0 });
    else if (code === 0x7d /* } */ || code === 0x5d /* ] */) scopes.pop();
    else if (code === 0x2c /* , */) {
      const scope = scopes[scopes.length - 1];
      if (scope !== undefined && scope.names === undefined) scope.step = Number(scope.step) + 1;
    }
    at += 1;
  }
  return undefined;
}

/** V8's reason without its position or quoted snippet, which the line and column replace. */
function reasonOf(detail: string): string {
  return detail.replace(/\s*in JSON at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

/**
 * Parses JSON text. A syntax error, a number out of the double range and a member name given twice
 * in one object ({@link repeatedName}) become a message naming the line and column; `firstLine` is
 * the file line the text starts on (an `.ndjson` line).
 */
export function parseJson(text: string, firstLine = 1): JsonText {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const offset = jsonErrorOffset(detail, text);
    return { ok: false, message: `Malformed JSON${where(text, offset, firstLine)}: ${reasonOf(detail)}` };
  }
  const repeated = mayRepeatName(text, value) ? repeatedName(text) : undefined;
  if (repeated !== undefined) {
    return {
      ok: false,
      message: `Malformed JSON${where(text, repeated.offset, firstLine)}: the property ${JSON.stringify(repeated.name)} is given twice in one object (at ${repeated.pointer}); JSON readers would keep only one of the two values`,
      pointer: repeated.pointer,
    };
  }
  const huge = outOfRangeNumber(text);
  if (huge === undefined) return { ok: true, value };
  const shown = huge.number.length > 40 ? `${huge.number.slice(0, 37)}...` : huge.number;
  return {
    ok: false,
    message: `Malformed JSON${where(text, huge.offset, firstLine)}: number out of range: ${shown} is beyond what a double can hold (±1.8e308)`,
  };
}

function where(text: string, offset: number | undefined, firstLine: number): string {
  if (offset === undefined) return ` at line ${String(firstLine)}`;
  const { line, column } = lineAndColumn(text, offset, firstLine);
  return ` at line ${String(line)}, column ${String(column)}`;
}
