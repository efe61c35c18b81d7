/**
 * The reads of one resource's kept text (`PlanStore.keptWithResource`, what `GET /fhir/{type}/{id}`
 * asks the store), coalesced: the reads asked for in one turn of the event loop go to PostgreSQL as
 * one statement (`dataloader`, its batch started after the turn with `setImmediate`, nothing kept
 * between batches). Under load many requests reach the store in one turn — at 2,000 FHIR reads/s on
 * two cores, 2–64 at once — and each statement of its own costs a round trip: a socket write that
 * wakes a PostgreSQL backend, its parse, bind and execute, its answer and the server's wake-up to
 * read it (docs/performance.md "The reads of a turn in one statement"). A turn's one read goes as
 * before, in the statement of one key.
 */
import DataLoader from 'dataloader';
import type { StoredVersionHead } from './plan-store.js';
import { toHead, type HeadRow } from './plan-rows.js';
import type { SqlQueryable } from './sql-client.js';

/** What one read asks: the resource, and the deriver whose kept text it wants. */
export interface KeptKey {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly deriver: string;
}

/** A version's columns but its plan (sql-plan-store.ts `HEAD_COLUMNS`). */
const HEAD_COLUMNS = 'v.plan_id, v.version, v.recorded_at, v.recorded_by';
/** The kept basis, judging summary and the resource's text, as sql-plan-store.ts `derivedJoin` brings them. */
const DERIVED_COLUMNS = 'd.basis, d.summary, t.resource_type AS text_type, t.resource_id AS text_id, t.head, t.tail';

/**
 * The current versions of the plans whose view has the resource, with what was derived from each
 * under the deriver and the resource's kept text: one key.
 */
export const KEPT_ONE = `SELECT ${HEAD_COLUMNS}, ${DERIVED_COLUMNS} FROM plan_resources r
       JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
       LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3
       LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $3 AND t.resource_type = $1 AND t.resource_id = $2
       WHERE r.resource_type = $1 AND r.resource_id = $2 ORDER BY p.plan_id`;

/**
 * {@link KEPT_ONE} for many keys of one deriver, each row with its key's place in the arrays (`k.n`,
 * from 1), a key's rows in the order of their plan ids as there. Two things keep it as cheap a key as {@link KEPT_ONE}:
 * - The keys are read by their subscripts (`generate_subscripts`), not with `unnest`: the planner
 *   counts an `unnest` of a bound array, so each custom plan costs as many keys as it was given and the
 *   generic plan (which guesses 10) never looks cheaper — PostgreSQL then planned the prepared
 *   statement anew at every call (`pg_prepared_statements`: 400 custom plans of 400). A subscript
 *   series is guessed at 1,000 rows either way, so after five calls the generic plan is kept.
 * - The lookup is a `LATERAL` subquery behind `OFFSET 0`, which the planner may not flatten into a
 *   join: each key is looked up through the indexes as {@link KEPT_ONE} does, whatever number of keys
 *   the planner guesses.
 */
export const KEPT_MANY = `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${HEAD_COLUMNS}, ${DERIVED_COLUMNS} FROM plan_resources r
         JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3
         LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $3 AND t.resource_type = r.resource_type AND t.resource_id = r.resource_id
         WHERE r.resource_type = ($1::text[])[k.n] AND r.resource_id = ($2::text[])[k.n] OFFSET 0) AS x
       ORDER BY k.n, x.plan_id`;

/** Most keys in one statement: two arrays whatever the count, so only the rows it brings bound it. */
export const MAX_KEPT_BATCH = 200;

/** Reads the keys' kept heads, a statement per deriver among them; each key's heads in the order of its plan ids. */
export async function readKept(sql: SqlQueryable, keys: readonly KeptKey[]): Promise<StoredVersionHead[][]> {
  const results: StoredVersionHead[][] = keys.map(() => []);
  const byDeriver = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const places = byDeriver.get(key.deriver);
    if (places === undefined) byDeriver.set(key.deriver, [index]);
    else places.push(index);
  });
  await Promise.all(
    [...byDeriver].map(async ([deriver, places]) => {
      if (places.length === 1) {
        const index = places[0] ?? 0;
        const key = keys[index];
        if (key !== undefined) results[index] = (await sql.query<HeadRow>(KEPT_ONE, [key.resourceType, key.resourceId, deriver])).map(toHead);
        return;
      }
      const wanted = places.map((index) => keys[index]).filter((key) => key !== undefined);
      const rows = await sql.query<HeadRow & { n: string | number }>(KEPT_MANY, [wanted.map((key) => key.resourceType), wanted.map((key) => key.resourceId), deriver]);
      for (const row of rows) {
        const index = places[Number(row.n) - 1];
        if (index !== undefined) results[index]?.push(toHead(row));
      }
    }),
  );
  return results;
}

/**
 * A loader of kept heads that sends the keys asked for in one turn of the event loop together.
 * Nothing is remembered: each key is read from the database when its batch runs.
 */
export function keptLoader(sql: SqlQueryable): DataLoader<KeptKey, StoredVersionHead[]> {
  return new DataLoader<KeptKey, StoredVersionHead[]>((keys) => readKept(sql, keys), {
    cache: false,
    maxBatchSize: MAX_KEPT_BATCH,
    batchScheduleFn: (callback) => setImmediate(callback),
  });
}
