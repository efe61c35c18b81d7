/**
 * UTF-8 at the HTTP edge: request bodies decoded and answers encoded through ICU (`buffer.transcode`)
 * where that gives exactly what Node's own codec gives, only sooner.
 *
 * Node 20's own UTF-8 codec is V8's: it decodes a text at ≈ 4 ns a byte from its first byte above
 * U+007F on (a text that is all ASCII, ≈ 0.2 ns), so one `å` or en dash early in a 63 kB transaction
 * Bundle costs ≈ 230 µs on a slow host; ICU's converter decodes the same bytes in ≈ 50 µs. The other
 * way, `Buffer.from` of a 10 kB answer ≈ 18 µs, ICU's ≈ 10 µs (docs/performance.md, "UTF-8 at the
 * edge through ICU"). Each function here falls back to Node's codec wherever ICU's would differ:
 * - bytes that are not valid UTF-8 (`isUtf8`) are decoded by `StringDecoder`, as body-parser's text
 *   reader decoded every body (iconv-lite's `utf8` is a `StringDecoder`), with its U+FFFD replacements;
 * - text holding a lone surrogate, which ICU refuses to encode, is encoded by `Buffer.from`, which
 *   writes U+FFFD for it;
 * - without ICU (a Node built without `Intl`), both use Node's codec.
 * test/http/utf8.test.ts holds both to Node's codec on generated text and bytes.
 */
import { isAscii, isUtf8, transcode } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

/** Whether this Node has ICU's converters behind `buffer.transcode`. */
const HAS_ICU = typeof process.versions.icu === 'string' && typeof transcode === 'function';

/** Below this many bytes or characters Node's codec is as quick: not worth a second buffer. */
const SHORT = 1024;

/** The UTF-8 byte order mark, which body-parser's text reader (iconv-lite) drops from a body's start. */
const BOM = [0xef, 0xbb, 0xbf] as const;

function startsWithBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
}

/**
 * The text of a request body sent as UTF-8, without a leading byte order mark: what body-parser's
 * `text()` gives for a body whose charset is UTF-8 (its default), in ICU's time. Bytes that are not
 * valid UTF-8 are decoded as it decoded them (U+FFFD for each bad sequence).
 */
export function utf8BodyText(body: Uint8Array): string {
  const bytes = startsWithBom(body) ? body.subarray(BOM.length) : body;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buffer)) return buffer.toString('latin1');
  if (HAS_ICU && buffer.length >= SHORT && isUtf8(buffer)) return transcode(buffer, 'utf8', 'ucs2').toString('ucs2');
  return new StringDecoder('utf8').end(buffer);
}

/**
 * `Buffer.from(text, 'utf8')` in ICU's time: a text of ≥ 1 kB goes to UTF-16 and through ICU's
 * converter; one with a lone surrogate (which ICU refuses) by Node's codec, which writes U+FFFD for it.
 */
export function utf8Bytes(text: string): Buffer {
  if (!HAS_ICU || text.length < SHORT) return Buffer.from(text, 'utf8');
  try {
    return transcode(Buffer.from(text, 'ucs2'), 'ucs2', 'utf8');
  } catch {
    return Buffer.from(text, 'utf8');
  }
}
