/**
 * Reading the files a command is given — the one path from a command-line argument to JSON that all
 * four commands share, so that a hostile file gets the same answer from each:
 *
 * - an argument is a file, or a folder whose `.json` (or other named) files are read in name order;
 *   symbolic links inside a folder are not followed (a link named on the command line is), and a
 *   folder or unmatched pattern with nothing to read is an error, never a silent "0 files";
 * - a file's size is checked before it is read (`--max-file-size`), and reading stops at the limit
 *   for what has no size (a pipe);
 * - the bytes must be UTF-8 (a leading byte-order mark is dropped), or the first bad byte is named;
 * - the text is parsed by `parseJson`, which locates every error by line and column.
 *
 * What cannot be read at all (missing, too large, nothing to check) is an `InputError`: the command
 * did not judge it, exit 2. What was read and is not UTF-8 or JSON is a verdict on the input, exit 1.
 */
import { constants as bufferConstants } from 'node:buffer';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseJson, type JsonText } from '../sip/json-text.js';
import { UsageError } from './usage-error.js';

/** Why an input could not be read; each is exit status 2. */
export type InputFailure = 'unreadable' | 'too-large' | 'nothing-to-check';

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly reason: InputFailure;

  constructor(reason: InputFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The default of `--max-file-size`: far above any plan or Bundle, far below what would exhaust memory. */
export const DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024;

/**
 * The most bytes one JSON document (a `.json` file, or one line of an `.ndjson` file) may have,
 * whatever `--max-file-size` says: it is decoded into one JavaScript string, and V8 holds none
 * longer than this many UTF-16 code units (536,870,888 on 64-bit Node 20, just under 512 MiB). A
 * UTF-8 byte never decodes to more than one code unit, so a document within this many bytes fits.
 */
export const MAX_DOCUMENT_SIZE = bufferConstants.MAX_STRING_LENGTH;

/** The byte limit for one JSON document: `--max-file-size`, but never past {@link MAX_DOCUMENT_SIZE}. */
export function documentLimit(limits: InputLimits): { bytes: number; because: string } {
  return limits.maxFileSize <= MAX_DOCUMENT_SIZE
    ? { bytes: limits.maxFileSize, because: 'see --max-file-size' }
    : { bytes: MAX_DOCUMENT_SIZE, because: 'the most one JSON document can be; an .ndjson file, one resource per line, has no limit on its size' };
}

/** The option every command takes; spread into its `parseArgs` options. */
export const INPUT_OPTIONS = { 'max-file-size': { type: 'string' } } as const;

/** How `--max-file-size` is described in each command's usage text. */
export const MAX_FILE_SIZE_USAGE = `  --max-file-size <bytes|NNMiB>
                      refuse a larger file without reading it (default 64MiB; KiB, MiB, GiB)`;

/** What a command needs to know to read its inputs. */
export interface InputLimits {
  readonly maxFileSize: number;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Reads `--max-file-size`: a number of bytes, or a number of KiB, MiB or GiB. */
export function parseInputLimits(value: string | undefined): InputLimits {
  if (value === undefined) return { maxFileSize: DEFAULT_MAX_FILE_SIZE };
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(value.trim());
  const bytes = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError(`--max-file-size must be a number of bytes or of KiB, MiB or GiB (e.g. 65536 or 64MiB); got "${value}"`);
  }
  return { maxFileSize: bytes };
}

/** A size for people: bytes, or KiB/MiB with the exact count of bytes too. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${String(bytes)} bytes`;
  const [unit, size] = bytes < 1024 ** 2 ? ['KiB', bytes / 1024] : ['MiB', bytes / 1024 ** 2];
  return `${size.toFixed(1).replace(/\.0$/, '')} ${unit} (${String(bytes)} bytes)`;
}

/** Characters a shell expands: an argument still holding them is a pattern that matched nothing. */
const PATTERN = /[*?[]/;

/**
 * The files below a folder whose names end with one of `extensions`, sorted by path. Only regular
 * files count: a symbolic link inside a folder is not followed, so a folder never leads outside
 * itself, nor into a loop.
 */
async function filesBelow(folder: string, extensions: readonly string[]): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && extensions.some((extension) => entry.name.endsWith(extension)))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  if (files.length === 0) {
    const wanted = extensions.join(' or ');
    throw new InputError('nothing-to-check', `nothing to check in "${folder}": it holds no ${wanted} file (symbolic links inside a folder are not followed)`);
  }
  return files;
}

/**
 * Expands folders into the files below them whose names end with one of `extensions` (default
 * `.json`), sorted by path; files named directly are kept as given, whatever their extension. Every
 * argument must give at least one file.
 */
export async function expandInputs(inputs: readonly string[], extensions: readonly string[] = ['.json']): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      if (PATTERN.test(input)) throw new InputError('nothing-to-check', `nothing to check: no file matches "${input}"`);
      throw new InputError('unreadable', `cannot read "${input}": no such file or folder`);
    }
    files.push(...(info.isDirectory() ? await filesBelow(input, extensions) : [input]));
  }
  return files;
}

/**
 * The one file a command such as `to-fhir` reads. A folder is not one file: an empty one is
 * "nothing to check", as for every command, and any other is a usage error.
 */
export async function singleInput(input: string, what: string): Promise<string> {
  const [file, ...more] = await expandInputs([input]);
  if (file === undefined || more.length > 0 || file !== input) throw new UsageError(`name one ${what} file; "${input}" is a folder`);
  return file;
}

const CHUNK = 1024 * 1024;

/** Reads at most `limit` bytes; `undefined` when there are more (a pipe or a file that grew since its stat). */
async function readBounded(file: string, limit: number): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isFile() && info.size > limit) return undefined;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) return undefined;
    }
  } finally {
    await handle.close();
  }
}

/** The bytes of a file, refused without reading them when its size is over the limit. */
async function readBytes(file: string, limits: InputLimits): Promise<Buffer> {
  const limit = documentLimit(limits);
  let info;
  let bytes: Buffer | undefined;
  try {
    info = await stat(file);
    bytes = info.isFile() && info.size > limit.bytes ? undefined : await readBounded(file, limit.bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError('unreadable', `cannot read "${file}"${code === undefined ? '' : ` (${code})`}`);
  }
  if (bytes === undefined) {
    const size = info.isFile() && info.size > limit.bytes ? formatSize(info.size) : `more than ${formatSize(limit.bytes)}`;
    throw new InputError('too-large', `"${file}" is ${size}, over the limit of ${formatSize(limit.bytes)}; it was not read (${limit.because})`);
  }
  return bytes;
}

/** The offset of the first byte of `bytes` that is not part of a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let at = 0;
  while (at < bytes.length) {
    const length = utf8SequenceLength(bytes, at);
    if (length === 0) return at;
    at += length;
  }
  return undefined;
}

/** The length of the well-formed sequence at `at`, or 0: no overlong forms, surrogates or code points past U+10FFFF. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at] ?? 0;
  if (lead < 0x80) return 1;
  const [length, low, high] = lead >= 0xc2 && lead <= 0xdf ? [2, 0x80, 0xbf]
    : lead === 0xe0 ? [3, 0xa0, 0xbf]
    : lead === 0xed ? [3, 0x80, 0x9f]
    : lead >= 0xe1 && lead <= 0xef ? [3, 0x80, 0xbf]
    : lead === 0xf0 ? [4, 0x90, 0xbf]
    : lead >= 0xf1 && lead <= 0xf3 ? [4, 0x80, 0xbf]
    : lead === 0xf4 ? [4, 0x80, 0x8f]
    : [0, 0, 0];
  for (let index = 1; index < length; index += 1) {
    const byte = bytes[at + index];
    const [min, max] = index === 1 ? [low, high] : [0x80, 0xbf];
    if (byte === undefined || byte < min || byte > max) return 0;
  }
  return length;
}

/** The file's text, or why its bytes are not UTF-8 (first bad byte and its line). */
export type InputText = { ok: true; text: string } | { ok: false; message: string };

/**
 * Reads a file as UTF-8 text. Invalid UTF-8 is never replaced by U+FFFD (which would then travel on
 * into FHIR): it is refused with the byte offset of the first bad byte. A leading byte-order mark is
 * dropped, as RFC 8259 §8.1 allows a reader to. Throws `InputError` when the file cannot be read.
 */
export async function readInputText(file: string, limits: InputLimits): Promise<InputText> {
  const bytes = await readBytes(file, limits);
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { ok: false, message: invalidUtf8Message(bytes) };
  }
}

/**
 * Where `bytes` (which are not UTF-8) go wrong: the file offset and line of the first bad byte.
 * `at` places `bytes` in the file when they are one line of it (an `.ndjson` line).
 */
export function invalidUtf8Message(bytes: Uint8Array, at: { offset: number; line: number } = { offset: 0, line: 1 }): string {
  const offset = firstInvalidUtf8(bytes) ?? 0;
  const line = at.line + bytes.subarray(0, offset).filter((byte) => byte === 0x0a).length;
  const shown = [...bytes.subarray(offset, offset + 2)].map((byte) => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  return `Invalid UTF-8 at byte offset ${String(at.offset + offset)} (line ${String(line)}): ${shown} is not a UTF-8 character; the file must be UTF-8`;
}

/** Reads a file and parses it as one JSON value: the path `check`, `to-fhir` and `from-fhir` share. */
export async function readJsonFile(file: string, limits: InputLimits): Promise<JsonText> {
  const input = await readInputText(file, limits);
  return input.ok ? parseJson(input.text) : input;
}
