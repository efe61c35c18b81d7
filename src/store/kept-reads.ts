/**
 * The reads of one resource's kept text (`PlanStore.keptWithResource`, what `GET /fhir/{type}/{id}`
 * asks the store), coalesced (coalesced.ts): the reads of one turn of the event loop go to PostgreSQL
 * as one statement a deriver, a turn's only read as its own statement (sql-plan-store.ts).
 */
import type DataLoader from 'dataloader';
import { coalescedLoader, type PlacedHeadRow } from './coalesced.js';
import type { StoredVersionHead } from './plan-store.js';
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
export const KEPT_MANY = `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${HEAD_COLUMNS}, ${DERIVED_TEXT_COLUMNS} FROM plan_resources r
         JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3
         LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $3 AND t.resource_type = r.resource_type AND t.resource_id = r.resource_id
         WHERE r.resource_type = ($1::text[])[k.n] AND r.resource_id = ($2::text[])[k.n] OFFSET 0) AS x
       ORDER BY k.n, x.plan_id`;

/** A loader of kept heads: `one` reads a key in its own statement. */
export function keptLoader(sql: SqlQueryable, one: (key: KeptKey) => Promise<StoredVersionHead[]>): DataLoader<KeptKey, StoredVersionHead[]> {
  return coalescedLoader<KeptKey>({
    groupOf: (key) => key.deriver,
    one,
    many: (keys) => sql.query<PlacedHeadRow>(KEPT_MANY, [keys.map((key) => key.resourceType), keys.map((key) => key.resourceId), keys[0]?.deriver]),
  });
}
