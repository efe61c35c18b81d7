/**
 * The reads of plans' current versions (`PlanStore.get` without a version, what the SIP API's reads
 * and changes, and a transaction's check for the plan, ask the store), coalesced (coalesced.ts): the
 * reads of one turn of the event loop go to PostgreSQL as one statement for each deriver asked for
 * (or none), a turn's only read as its own statement (sql-plan-store.ts). The FHIR reads and a
 * person's searches went so before (kept-reads.ts, person-reads.ts); the SIP read went alone.
 */
import type DataLoader from 'dataloader';
import { coalescedRowsLoader } from './coalesced.js';
import type { StoredPlan } from './plan-store.js';
import { BASIS_COLUMNS, toStored, VERSION_COLUMNS, type VersionRow } from './plan-rows.js';
import type { SqlQueryable } from './sql-client.js';

/** What one read asks: the plan, and the deriver whose send basis it wants with it (none: the version alone). */
export interface CurrentKey {
  readonly planId: string;
  readonly deriver?: string;
}

/**
 * The current versions of many plans, each row with its plan id's place in the array (`k.n`, from 1),
 * and with `withBasis` what a SIP read judges and answers with (the send basis, the judging summary, the
 * traffic light and status, `BASIS_COLUMNS`) kept under the deriver `$2` (null when none is). As in
 * kept-reads.ts the ids are read by their subscripts and each is looked up in a `LATERAL` subquery
 * behind `OFFSET 0`, so the prepared statement keeps a generic plan that goes through the keys.
 */
export function currentMany(withBasis: boolean): string {
  return `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${VERSION_COLUMNS}${withBasis ? `, ${BASIS_COLUMNS}` : ''} FROM plans p
         JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version${withBasis ? `
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $2` : ''}
         WHERE p.plan_id = ($1::text[])[k.n] OFFSET 0) AS x
       ORDER BY k.n`;
}

/** A loader of current versions: `one` reads a key in its own statement (an absent plan: no version). */
export function currentLoader(sql: SqlQueryable, one: (key: CurrentKey) => Promise<StoredPlan[]>): DataLoader<CurrentKey, StoredPlan[]> {
  return coalescedRowsLoader<CurrentKey, VersionRow, StoredPlan>({
    groupOf: (key) => (key.deriver === undefined ? 'none' : `deriver ${key.deriver}`),
    one,
    many: (keys) => {
      const ids = keys.map((key) => key.planId);
      const deriver = keys[0]?.deriver;
      return sql.query(currentMany(deriver !== undefined), deriver === undefined ? [ids] : [ids, deriver]);
    },
    result: toStored,
  });
}
