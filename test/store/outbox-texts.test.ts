/**
 * The kept resource texts a claim hands the worker (src/store/outbox.ts `derivedColumns`,
 * `keptTexts`): read as one `string_agg` text split in the adapter instead of a `json_agg` the
 * backend escaped and pg parsed again. On PGlite and PostgreSQL, for the versions of every example
 * (texts as src/http/derived-view.ts writes them) and for texts made to be awkward (quotes,
 * backslashes, escaped control characters, non-BMP characters), the texts claimed are those written,
 * and the same as the `json_agg` statement of the start reads (a differential test against a copy of
 * it) — whether the version's texts are rows, as before migration 12, or all but the CarePlan's packed
 * on its derived row (src/store/kept-texts.ts).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { derivedVersion } from '../../src/http/derived-view.js';
import type { ClaimedDelivery, DerivedText, DerivedVersion } from '../../src/store/index.js';
import { keptTexts } from '../../src/store/outbox.js';
import type { SqlClient } from '../../src/store/sql-client.js';
import { openStore, type Driver, type OpenedStore } from '../exchange/outbox-support.js';
import { exampleFiles, readExample } from '../support/examples.js';

const RECEIVER = 'fk-texts';
const AT = new Date('2030-01-01T00:00:00Z');
const WRITER = 'SE2321000180-1000';

/**
 * The start's reading of a version's texts: a json_agg of arrays, parsed by the driver — over the rows,
 * and since migration 12 over the texts packed on the derived row too, cut out here as that
 * migration's comment describes the columns (text i's head the bytes from bounds[2i−1] to bounds[2i],
 * its tail from there to bounds[2i+1]).
 */
async function textsAsBefore(sql: SqlClient, planId: string, version: number, deriver: string): Promise<DerivedText[]> {
  const [row] = await sql.query<{ texts: [string, string, string, string][] | null }>(
    `SELECT (SELECT json_agg(json_build_array(t.resource_type, t.resource_id, t.head, t.tail)) FROM (
        SELECT resource_type, resource_id, head, tail FROM plan_version_texts WHERE plan_id = $1 AND version = $2 AND deriver = $3
        UNION ALL
        SELECT d.text_types[s.i], d.text_ids[s.i],
          convert_from(substring(d.texts FROM d.text_bounds[2 * s.i - 1] + 1 FOR d.text_bounds[2 * s.i] - d.text_bounds[2 * s.i - 1]), 'UTF8'),
          convert_from(substring(d.texts FROM d.text_bounds[2 * s.i] + 1 FOR d.text_bounds[2 * s.i + 1] - d.text_bounds[2 * s.i]), 'UTF8')
        FROM plan_version_derived d CROSS JOIN generate_subscripts(d.text_types, 1) AS s (i) WHERE d.plan_id = $1 AND d.version = $2 AND d.deriver = $3
      ) AS t (resource_type, resource_id, head, tail)) AS texts`,
    [planId, version, deriver],
  );
  return (row?.texts ?? []).map(([resourceType, id, head, tail]) => ({ resourceType, id, head, tail }));
}

/** Keeps what was derived from a version as a writer before migration 12 did: every text a row, nothing packed. */
async function deriveAsBeforePacking(sql: SqlClient, planId: string, version: number, derived: DerivedVersion): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('INSERT INTO plan_version_derived (plan_id, version, deriver, basis, summary) VALUES ($1, $2, $3, $4, $5)', [planId, version, derived.deriver, derived.basis, derived.summary ?? null]);
    for (const text of derived.texts) {
      await tx.query('INSERT INTO plan_version_texts (plan_id, version, deriver, resource_type, resource_id, head, tail) VALUES ($1, $2, $3, $4, $5, $6, $7)', [planId, version, derived.deriver, text.resourceType, text.id, text.head, text.tail]);
    }
  });
}

const byKey = (texts: readonly DerivedText[]): DerivedText[] => [...texts].sort((a, b) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`));

/** Texts whose heads and tails hold what JSON text may: quotes, backslashes, escaped control characters, åäö, an emoji. */
function awkwardTexts(): DerivedText[] {
  const strings = ['a "quoted" word', 'back\\slash', '\u001e\u001f\u0000\n\t', 'Åsa Öberg – ärende', 'emoji 🧩 and \u2028'];
  return strings.map((value, i) => {
    const text = JSON.stringify({ resourceType: 'Goal', id: `goal-${String(i)}`, meta: { versionId: '1' }, note: [{ text: value }] });
    const at = text.indexOf('"versionId"');
    return { resourceType: 'Goal', id: `goal-${String(i)}`, head: text.slice(0, at), tail: text.slice(at) };
  });
}

describe.each<Driver>(['pglite', 'postgres'])('the kept texts a claim reads on %s', (driver) => {
  let opened: OpenedStore | undefined;
  afterEach(async () => {
    await opened?.dispose();
    opened = undefined;
  }, 60_000);

  it('are the texts written, and what the json_agg statement read, for every example and awkward texts', async () => {
    opened = await openStore(driver);
    const { store, sql } = opened;
    const written = new Map<string, DerivedVersion>();
    for (const file of exampleFiles) {
      const plan = { ...readExample(file), version: 1 };
      const derived = derivedVersion(plan);
      written.set(plan.id, derived);
      await store.create(plan, WRITER, [], { deliverTo: [RECEIVER], derived });
    }
    const [first] = exampleFiles;
    if (first === undefined) throw new Error('no example');
    const awkward = { ...readExample(first), id: 'sip-texts-awkward', version: 1 };
    const awkwardDerived: DerivedVersion = { ...derivedVersion(awkward), texts: awkwardTexts() };
    written.set(awkward.id, awkwardDerived);
    await store.create(awkward, WRITER, [], { deliverTo: [RECEIVER], derived: awkwardDerived });
    // A version whose texts a writer before migration 12 kept, every one a row.
    const rowsOnly = { ...readExample(first), id: 'sip-texts-as-rows', version: 1 };
    const rowsDerived = derivedVersion(rowsOnly);
    written.set(rowsOnly.id, rowsDerived);
    await store.create(rowsOnly, WRITER, [], { deliverTo: [RECEIVER] });
    await deriveAsBeforePacking(sql, rowsOnly.id, 1, rowsDerived);
    const [asRows] = await sql.query<{ n: number }>(`SELECT count(*)::integer AS n FROM plan_version_texts WHERE plan_id = 'sip-texts-as-rows' AND resource_type <> 'CarePlan'`);
    expect(asRows?.n).toBeGreaterThan(10);

    const claimed = new Map<string, readonly DerivedText[]>();
    let total = 0;
    for (;;) {
      const count = await store.outbox.deliverBatch(
        AT,
        4,
        (claim: ClaimedDelivery) => {
          claimed.set(claim.delivery.planId, claim.stored.derived?.texts ?? []);
          return Promise.resolve({ kind: 'delivered', status: 200 });
        },
        { deriver: awkwardDerived.deriver },
      );
      if (count === 0) break;
      total += count;
    }
    expect(total).toBe(written.size);
    let texts = 0;
    for (const [planId, derived] of written) {
      const got = claimed.get(planId);
      expect(byKey(got ?? [])).toEqual(byKey(derived.texts));
      expect(byKey(got ?? [])).toEqual(byKey(await textsAsBefore(sql, planId, 1, derived.deriver)));
      texts += derived.texts.length;
    }
    expect(texts).toBeGreaterThan(written.size * 10);
  }, 300_000);
});

/** The start's keptTexts (9cb44ca): the aggregate split into records, and each record into its fields. */
function keptTextsAsBefore(joined: string | null): DerivedText[] {
  if (joined === null || joined === '') return [];
  const texts: DerivedText[] = [];
  for (const record of joined.split('\u001e')) {
    const fields = record.split('\u001f');
    if (fields.length !== 4) return [];
    const [resourceType = '', id = '', head = '', tail = ''] = fields;
    texts.push({ resourceType, id, head, tail });
  }
  return texts;
}

describe('keptTexts', () => {
  it('reads what the start’s two splits read, for any text: separators anywhere, fields empty, records short or long', () => {
    const fragment = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('\u001e', '\u001f') },
      { weight: 2, arbitrary: fc.constantFrom('', 'Goal', 'g1', '{"resourceType":"Goal",', '}', 'Åsa – ärende', '🧩', '\ud83e', '"a\\u001f"') },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    );
    // Well-formed aggregates too: records of exactly four fields.
    const record = fc.array(fc.string({ maxLength: 12 }), { minLength: 4, maxLength: 4 }).map((fields) => fields.join('\u001f'));
    const aggregate = fc.oneof(
      fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join('')),
      fc.array(record, { minLength: 1, maxLength: 8 }).map((records) => records.join('\u001e')),
    );
    let read = 0;
    fc.assert(
      fc.property(aggregate, (joined) => {
        const texts = keptTexts(joined);
        expect(texts).toEqual(keptTextsAsBefore(joined));
        read += texts.length;
      }),
      { numRuns: 5_000 },
    );
    expect(read).toBeGreaterThan(1_000);
  });


  it('splits four fields a text, and uses no text when one does not split so', () => {
    expect(keptTexts(null)).toEqual([]);
    expect(keptTexts('Goal\u001fg1\u001f{"a":\u001f}\u001eGoal\u001fg2\u001f{\u001f}')).toEqual([
      { resourceType: 'Goal', id: 'g1', head: '{"a":', tail: '}' },
      { resourceType: 'Goal', id: 'g2', head: '{', tail: '}' },
    ]);
    expect(keptTexts('Goal\u001fg1\u001f{"a":\u001f}\u001eGoal\u001fg2\u001f{')).toEqual([]);
    expect(keptTexts('Goal\u001fg1\u001f{"a":\u001f}\u001f}')).toEqual([]);
  });
});
