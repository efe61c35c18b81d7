/**
 * Where a version's derived texts are kept (migrations 6 and 12), and the SQL that reads them back.
 *
 * A version's view has ≈ 30 resources. Until migration 12 each resource's text was a row of
 * `plan_version_texts`, ≈ 30 rows and index entries a transaction; PostgreSQL spent more CPU on them
 * than on the rest of the create (bench/pg-tx-split.ts: 2.2–2.4 ms a create as rows, 1.4–1.5 ms with
 * the texts as one `bytea`, the gap growing with the table). Since migration 12 the texts of
 * {@link TEXT_ROW_TYPES} stay rows — the CarePlan's is what `GET /fhir/CarePlan/{id}` and every
 * CarePlan search answer, read alone and often — and the others go packed on the version's derived
 * row: `text_types` and `text_ids` (text[]), `text_bounds` (integer[], 2n + 1 byte offsets: text i's
 * head is bytes [bounds[2i−1], bounds[2i]) and its tail [bounds[2i], bounds[2i+1]), counting from 1 as
 * SQL arrays do), `text_units` (the same offsets in UTF-16 code units, as JavaScript counts a string)
 * and `texts` (bytea, every head and tail as UTF-8, one after the other). A read of one of them cuts
 * its bytes out by `text_bounds`; the outbox, which sends them all, takes the bytes whole as text and
 * cuts that by `text_units` ({@link unpackTexts}).
 *
 * Versions derived before migration 12 keep every text as a row, and so does any row the store keeps
 * under another deriver; every read looks in both places, so each finds what was kept either way.
 */
import type { DerivedText } from './plan-store.js';

/** The resource types whose texts stay a row each (`plan_version_texts`); every other type's go packed on the derived row. */
export const TEXT_ROW_TYPES: ReadonlySet<string> = new Set(['CarePlan']);

/** The packed texts as the derived row's columns take them (migration 12). */
export interface PackedTexts {
  readonly types: string[];
  readonly ids: string[];
  /** 2n + 1 byte offsets into `bytes`: 0, then each text's head end and tail end. */
  readonly bounds: number[];
  /** The same offsets in UTF-16 code units, into the text `bytes` decode to. */
  readonly units: number[];
  readonly bytes: Buffer;
}

/**
 * A version's texts split as the store keeps them: those of {@link TEXT_ROW_TYPES} as rows, the others
 * packed. A resource given twice is kept once, as first given — as the rows' primary key and
 * `ON CONFLICT DO NOTHING` kept it before.
 */
export function splitTexts(texts: readonly DerivedText[]): { rows: DerivedText[]; packed: PackedTexts } {
  const rows: DerivedText[] = [];
  const others: DerivedText[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    const key = `${text.resourceType}/${text.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    (TEXT_ROW_TYPES.has(text.resourceType) ? rows : others).push(text);
  }
  return { rows, packed: packTexts(others) };
}

/**
 * {@link utf8Packed}, for texts to keep packed. A JavaScript string always encodes to valid UTF-8 (a
 * lone surrogate becomes U+FFFD, as the driver sends a text parameter), but U+0000, which
 * PostgreSQL's text refuses and `convert_from` would refuse only when the text is read, is refused
 * here, when it is written — as a text parameter was refused. The derived texts are `JSON.stringify`
 * output, which escapes it, so none holds one.
 *
 * UTF-8 writes U+0000 as the byte 0, and no other character with a 0 byte, so one search of the packed
 * bytes (`memchr`) finds it in any text: searching each of the ≈ 60 strings for it was ≈ 1 % of a
 * transaction's server CPU (docs/performance.md, "UTF-8 at the edge through ICU").
 */
export function packTexts(texts: readonly DerivedText[]): PackedTexts {
  const packed = utf8Packed(texts);
  const at = packed.bytes.indexOf(0);
  if (at >= 0) {
    // bounds[p] ≤ at < bounds[p + 1]: piece p, the head (p even) or tail (p odd) of text ⌊p / 2⌋.
    const piece = packed.bounds.findIndex((bound) => bound > at) - 1;
    const index = Math.floor(piece / 2);
    throw new RangeError(`the text of ${String(packed.types[index])}/${String(packed.ids[index])} holds U+0000, which a text cannot keep`);
  }
  return packed;
}

/** Every text's head then tail as UTF-8 in one buffer, with the byte offsets where each piece ends. */
export function utf8Packed(texts: readonly DerivedText[]): PackedTexts {
  let total = 0;
  for (const text of texts) total += Buffer.byteLength(text.head) + Buffer.byteLength(text.tail);
  const bytes = Buffer.allocUnsafe(total);
  const types: string[] = [];
  const ids: string[] = [];
  const bounds = [0];
  // A string's length is kept through UTF-8: a lone surrogate (one unit) comes back as U+FFFD (one unit).
  const units = [0];
  let offset = 0;
  let unit = 0;
  for (const text of texts) {
    types.push(text.resourceType);
    ids.push(text.id);
    offset += bytes.write(text.head, offset);
    bounds.push(offset);
    units.push((unit += text.head.length));
    offset += bytes.write(text.tail, offset);
    bounds.push(offset);
    units.push((unit += text.tail.length));
  }
  if (offset !== total) throw new Error(`the texts took ${String(offset)} bytes where ${String(total)} were counted`);
  return { types, ids, bounds, units, bytes };
}

/**
 * U+001F, the unit separator, between the fields the store's SQL joins into one text for the adapter to
 * cut: the types and ids of {@link packedLists}, and the fields of a text kept as a row in the outbox's
 * aggregate (outbox.ts `keptTexts`). `FIELD_SEPARATOR_SQL` is the same character as PostgreSQL writes it.
 */
export const FIELD_SEPARATOR = '\u001f';
export const FIELD_SEPARATOR_SQL = 'chr(31)';

const PACKED_LIST_COLUMNS = [
  [`array_to_string(d.text_types, ${FIELD_SEPARATOR_SQL})`, 'text_types'],
  [`array_to_string(d.text_ids, ${FIELD_SEPARATOR_SQL})`, 'text_ids'],
  ["array_to_string(d.text_units, ',')", 'text_units'],
  ["convert_from(d.texts, 'UTF8')", 'packed_texts'],
] as const;

/**
 * The columns of a derived row `d` that {@link unpackTexts} reads, each as one text (only where the SQL
 * condition `when` holds, when one is given; null elsewhere): the types and ids joined by U+001F
 * (neither holds one: a type is letters, an id letters, digits, `-` and `.`), the UTF-16 offsets by
 * commas, the bytes decoded by the backend (`convert_from`, so no hex escaping travels). As text[] and
 * integer[] the driver's array parsers took ≈ 35 µs a version, and cutting by byte offsets needed the
 * text encoded again, ≈ 100 µs; split and sliced so, ≈ 5 µs (docs/performance.md, "A version's texts
 * packed on its derived row").
 */
export function packedLists(when?: string): string {
  return PACKED_LIST_COLUMNS.map(([expression, name]) => `${when === undefined ? expression : `CASE WHEN ${when} THEN ${expression} END`} AS ${name}`).join(', ');
}

/** The packed texts from the columns of {@link packedLists}; null columns (a row written before migration 12) give none. */
export function unpackTexts(types: string | null, ids: string | null, units: string | null, text: string | null): DerivedText[] {
  if (types === null || ids === null || units === null || text === null || units === '0') return [];
  const typeList = types.split(FIELD_SEPARATOR);
  const idList = ids.split(FIELD_SEPARATOR);
  const offsets = units.split(',').map(Number);
  if (idList.length !== typeList.length || offsets.length !== 2 * typeList.length + 1 || offsets.at(-1) !== text.length) {
    throw new Error(`packed texts of ${String(typeList.length)} types, ${String(idList.length)} ids, ${String(offsets.length)} offsets to ${String(offsets.at(-1))} and ${String(text.length)} characters`);
  }
  const texts: DerivedText[] = [];
  for (let index = 0; index < typeList.length; index++) {
    const middle = offsets[2 * index + 1] ?? 0;
    texts.push({ resourceType: typeList[index] ?? '', id: idList[index] ?? '', head: text.slice(offsets[2 * index], middle), tail: text.slice(middle, offsets[2 * index + 2]) });
  }
  return texts;
}

/** The derived row's columns of the packed texts, for an INSERT (`d` not named). */
export const PACKED_COLUMNS = 'text_types, text_ids, text_bounds, text_units, texts';

/** The packed texts as one INSERT's values, each bound by `param`, in the order of {@link PACKED_COLUMNS}. */
export function packedValues(packed: PackedTexts, param: (value: unknown) => string): string {
  return `${param(packed.types)}::text[], ${param(packed.ids)}::text[], ${param(packed.bounds)}::integer[], ${param(packed.units)}::integer[], ${param(packed.bytes)}::bytea`;
}

/**
 * A join that brings, as `t (resource_type, resource_id, head, tail)`, the kept texts of the version
 * `v` under the deriver whose derived row is `d` (joined before, on `deriver`): those of `type` (an SQL
 * expression), and of `id` when given; a `LEFT JOIN` unless `inner`. `rowsOnly` when the caller knows
 * the type is one of {@link TEXT_ROW_TYPES}: the plain join on the rows, as before migration 12, which
 * the hot reads keep (and which needs no `d`). Otherwise the rows and the packed texts (cut out of
 * `d.texts`, whose bytes are read once a text) in a `LATERAL` subquery behind `OFFSET 0`: kept from
 * being flattened into the outer query, each arm is looked up by the outer row's keys, the rows
 * through their primary key (docs/performance.md, "The texts as one row").
 */
export function keptTextsJoin(deriver: string, type: string, id: string | undefined, options: { readonly rowsOnly: boolean; readonly inner?: boolean }): string {
  const join = options.inner === true ? 'JOIN' : 'LEFT JOIN';
  if (options.rowsOnly) return ` ${join} plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = ${deriver} AND t.resource_type = ${type}${id === undefined ? '' : ` AND t.resource_id = ${id}`}`;
  return ` ${join} LATERAL (
         SELECT kt.resource_type, kt.resource_id, kt.head, kt.tail FROM plan_version_texts kt
           WHERE kt.plan_id = v.plan_id AND kt.version = v.version AND kt.deriver = ${deriver} AND kt.resource_type = ${type}${id === undefined ? '' : ` AND kt.resource_id = ${id}`}
         UNION ALL
         SELECT c.resource_type, c.resource_id, convert_from(substring(c.piece FROM 1 FOR c.head_bytes), 'UTF8'), convert_from(substring(c.piece FROM c.head_bytes + 1), 'UTF8')
           FROM (SELECT d.text_types[s.i] AS resource_type, d.text_ids[s.i] AS resource_id, d.text_bounds[2 * s.i] - d.text_bounds[2 * s.i - 1] AS head_bytes,
                   substring(d.texts FROM d.text_bounds[2 * s.i - 1] + 1 FOR d.text_bounds[2 * s.i + 1] - d.text_bounds[2 * s.i - 1]) AS piece
                 FROM generate_subscripts(d.text_types, 1) AS s (i) WHERE d.text_types[s.i] = ${type}${id === undefined ? '' : ` AND d.text_ids[s.i] = ${id}`} OFFSET 0) c
         OFFSET 0) t ON true`;
}
