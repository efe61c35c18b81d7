/**
 * JSON text to a value, with every failure located by line and column: the one JSON reader behind
 * the library's `parseJsonText` and every command of the CLI. It depends on nothing else, so the
 * `validate` command can use it without loading the SIP model.
 */

/** The parsed value, or why the text is not acceptable JSON, located in the file. */
export type JsonText = { ok: true; value: unknown } | { ok: false; message: string };

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
 * Texts that may hold a number beyond ±1.8e308: an exponent of three digits or more, or two hundred
 * digits in a row (an exponent of at most 99 needs more than 209 digits before it to overflow). One
 * regular expression over the text is far cheaper than `JSON.parse` itself, so the exact scan below
 * runs only when this matches, mostly never.
 */
const MAYBE_OUT_OF_RANGE = /[eE]\+?\d{3}|\d{200}/;

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The offset and text of the first number in valid JSON `text` that a double cannot hold (which
 * `JSON.parse` silently turns into ±Infinity). Strings are skipped, so digits in them never count.
 * A number too small for a double (`1e-400`) becomes 0, as in every JSON reader, and passes.
 */
export function outOfRangeNumber(text: string): { offset: number; number: string } | undefined {
  if (!MAYBE_OUT_OF_RANGE.test(text)) return undefined;
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

/** V8's reason without its position or quoted snippet, which the line and column replace. */
function reasonOf(detail: string): string {
  return detail.replace(/\s*in JSON at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

/**
 * Parses JSON text. A syntax error, and a number out of the double range, become a message naming
 * the line and column; `firstLine` is the file line the text starts on (an `.ndjson` line).
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
