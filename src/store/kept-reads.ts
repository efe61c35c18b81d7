/**
 * The reads of one resource's kept text (`PlanStore.keptWithResource`, what `GET /fhir/{type}/{id}`
 * asks the store), coalesced (coalesced.ts): the reads of one turn of the event loop go to PostgreSQL
 * as one statement a deriver, a turn's only read as its own statement (sql-plan-store.ts).
 */
import type DataLoader from 'dataloader';
import { coalescedLoader, type PlacedHeadRow } from './coalesced.js';
import type { StoredVersionHead } from './plan-store.js';
import { keptTextsJoin, TEXT_ROW_TYPES } from './kept-texts.js';
import { DERIVED_TEXT_COLUMNS, HEAD_COLUMNS } from './plan-rows.js';
import type { SqlQueryable } from './sql-client.js';

/** What one read asks: the resource, and the deriver whose kept text it wants. */
export interface KeptKey {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly deriver: string;
}

/**
 * The current versions of the plans whose view has the resource, for many keys of one deriver, with
 * what was derived from each and the resource's kept text; each row with its key's place in the
 * arrays (`k.n`, from 1), a key's rows in the order of their plan ids, as the statement of one key
 * gives them. Two things keep it as cheap a key as that statement:
 * - The keys are read by their subscripts (`generate_subscripts`), not with `unnest`: the planner
 *   counts an `unnest` of a bound array, so each custom plan costs as many keys as it was given and the
 *   generic plan (which guesses 10) never looks cheaper — PostgreSQL then planned the prepared
 *   statement anew at every call (`pg_prepared_statements`: 400 custom plans of 400). A subscript
 *   series is guessed at 1,000 rows either way, so after five calls the generic plan is kept.
 * - The lookup is a `LATERAL` subquery behind `OFFSET 0`, which the planner may not flatten into a
 *   join: each key is looked up through the indexes, whatever number of keys the planner guesses.
 */
export function keptMany(rowsOnly: boolean): string {
  return `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${HEAD_COLUMNS}, ${DERIVED_TEXT_COLUMNS} FROM plan_resources r
         JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3${keptTextsJoin('$3', 'r.resource_type', 'r.resource_id', { rowsOnly })}
         WHERE r.resource_type = ($1::text[])[k.n] AND r.resource_id = ($2::text[])[k.n] OFFSET 0) AS x
       ORDER BY k.n, x.plan_id`;
}

/**
 * {@link keptMany} for keys of {@link TEXT_ROW_TYPES}, whose texts are rows (the CarePlan reads, as
 * before migration 12), and for the others, whose texts may be rows or packed (kept-texts.ts).
 */
export const KEPT_MANY = { rows: keptMany(true), both: keptMany(false) } as const;

/** Which of {@link KEPT_MANY} reads a key's text. */
const formOf = (key: KeptKey): keyof typeof KEPT_MANY => (TEXT_ROW_TYPES.has(key.resourceType) ? 'rows' : 'both');

/**
 * A loader of kept heads: `one` reads a key in its own statement. The keys of one deriver go together,
 * and those whose texts are rows apart from the others (kept-texts.ts), so a turn's CarePlan reads run
 * the statement they ran before the other texts were packed.
 */
export function keptLoader(sql: SqlQueryable, one: (key: KeptKey) => Promise<StoredVersionHead[]>): DataLoader<KeptKey, StoredVersionHead[]> {
  return coalescedLoader<KeptKey>({
    groupOf: (key) => `${formOf(key)} ${key.deriver}`,
    one,
    many: (keys) => {
      const [first] = keys;
      if (first === undefined) return Promise.resolve([]);
      return sql.query<PlacedHeadRow>(KEPT_MANY[formOf(first)], [keys.map((key) => key.resourceType), keys.map((key) => key.resourceId), first.deriver]);
    },
  });
}
