/**
 * Reading an `.ndjson` file (one JSON document a line, https://github.com/ndjson/ndjson-spec, the
 * form of FHIR Bulk Data) as a stream: one line at a time, so that memory does not grow with the
 * number of lines, and a file larger than any string can still be read.
 *
 * Lines are split on the bytes, not on decoded text (node:readline would decode first and turn
 * invalid UTF-8 into U+FFFD without a word, and buffer a line of any length): each line is decoded
 * on its own with a fatal decoder, so a bad byte spoils only its line, which is reported with its
 * file offset; and a line over the limit is counted, never held.
 */
import { createReadStream } from 'node:fs';
import { documentLimit, formatSize, InputError, invalidUtf8Message, type InputLimits } from './files.js';

/** One line that holds something other than white space. */
export type NdjsonLine =
  | { readonly kind: 'text'; readonly line: number; readonly text: string }
  | { readonly kind: 'invalid-utf8'; readonly line: number; readonly message: string }
  | { readonly kind: 'too-large'; readonly line: number; readonly message: string };

interface RawLine {
  readonly line: number;
  /** Byte offset of the line's first byte in the file. */
  readonly offset: number;
  readonly size: number;
  /** The line's bytes without its newline; `undefined` when it is over the limit (never kept). */
  readonly bytes: Buffer | undefined;
}

const READ_CHUNK = 1024 * 1024;

/** Space, tab, carriage return: what JSON allows around a value, and what a blank line holds. */
function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

/** The non-blank lines of a file, as bytes; a line longer than `maxLineBytes` is given with its size only. */
async function* rawLines(file: string, maxLineBytes: number): AsyncGenerator<RawLine> {
  let pieces: Buffer[] = [];
  let size = 0;
  let blank = true;
  let line = 1;
  let offset = 0;
  const finish = (): RawLine | undefined => {
    const done = blank ? undefined : { line, offset, size, bytes: size > maxLineBytes ? undefined : pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size) };
    line += 1;
    offset += size + 1;
    pieces = [];
    size = 0;
    blank = true;
    return done;
  };
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      while (start <= chunk.length) {
        const newline = chunk.indexOf(0x0a, start);
        const piece = chunk.subarray(start, newline === -1 ? chunk.length : newline);
        if (blank && !isBlank(piece)) blank = false;
        size += piece.length;
        if (size <= maxLineBytes) pieces.push(piece);
        else pieces = [];
        if (newline === -1) break;
        const done = finish();
        if (done !== undefined) yield done;
        start = newline + 1;
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError('unreadable', `cannot read "${file}"${code === undefined ? '' : ` (${code})`}${line > 1 ? ` after line ${String(line - 1)}` : ''}`);
  } finally {
    stream.destroy();
  }
  const last = finish();
  if (last !== undefined) yield last;
}

/**
 * The lines of an `.ndjson` file that hold something, decoded, with their line numbers (from 1).
 * `--max-file-size` limits each line, one resource, and not the file, which is never held whole.
 * A leading byte-order mark is dropped, as for a `.json` file. Throws `InputError` when the file
 * cannot be read.
 */
export async function* readNdjson(file: string, limits: InputLimits): AsyncGenerator<NdjsonLine> {
  const limit = documentLimit(limits);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for await (const raw of rawLines(file, limit.bytes)) {
    if (raw.bytes === undefined) {
      const message = `line ${String(raw.line)} of "${file}" is ${formatSize(raw.size)}, over the limit of ${formatSize(limit.bytes)} for one resource; it was not read (${limit.because})`;
      yield { kind: 'too-large', line: raw.line, message };
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(raw.bytes);
    } catch {
      yield { kind: 'invalid-utf8', line: raw.line, message: invalidUtf8Message(raw.bytes, raw) };
      continue;
    }
    yield { kind: 'text', line: raw.line, text: raw.line === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text };
  }
}

/** How many resources an `.ndjson` file holds (its non-blank lines), read as a stream; 0 when it cannot be read. */
export async function countNdjsonLines(file: string): Promise<number> {
  let count = 0;
  try {
    const lines = rawLines(file, 0);
    while ((await lines.next()).done !== true) count += 1;
  } catch {
    return 0;
  }
  return count;
}
