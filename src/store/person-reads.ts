/**
 * A person's plans as a FHIR search walks them (`PlanStore.searchHeads` with the person alone, what
 * `GET /fhir/CarePlan?patient:identifier=…` asks the store), coalesced as kept-reads.ts coalesces a
 * read's kept text: the person searches asked for in one turn of the event loop go to PostgreSQL as
 * one statement, a turn's only search as the statement it was (sql-plan-store.ts `searchStatement`).
 * Nothing is kept between batches.
 */
import DataLoader from 'dataloader';
import type { PlanSearch, StoredVersionHead } from './plan-store.js';
import { toHead, type HeadRow } from './plan-rows.js';
import type { SqlQueryable } from './sql-client.js';

/** A search of one person's current versions with the kept text of one resource type each, a page of `limit`. */
export interface PersonKey {
  readonly personIdentifier: string;
  readonly deriver: string;
  readonly resourceType: string;
  readonly limit: number;
}

/**
 * The search as a {@link PersonKey} when it is one: the person alone, uncounted, from the first plan,
 * with the kept text of a resource type (not one resource). Any other search is run as it is.
 */
export function personKeyOf(query: PlanSearch, limit: number): PersonKey | undefined {
  const { personIdentifier, derived, total, offset, ...others } = query;
  const narrowing = Object.keys(others).some((name) => name !== 'limit');
  if (personIdentifier === undefined || narrowing || total !== false || (offset ?? 0) !== 0) return undefined;
  if (derived?.resourceType === undefined || derived.resourceId !== undefined || derived.text === false) return undefined;
  return { personIdentifier, deriver: derived.deriver, resourceType: derived.resourceType, limit };
}

/** A FHIR resource type, as the store's tables hold one (sql-plan-store.ts `RESOURCE_TYPE`). */
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/**
 * The persons' searches, each row with its person's place in the array (`k.n`, from 1), a person's
 * plans in the order of their ids up to the limit, as `searchStatement` gives them; each with the
 * kept text of `resourceType`. Read by subscripts, not `unnest`, for the reason kept-reads.ts
 * `KEPT_MANY` gives; the `LIMIT` keeps each person's lookup a subquery of its own, through the person
 * index. The resource type is written into the text, not bound: bound, a custom plan knew it and the
 * generic one guessed two texts a plan where there is one; times the 1,000 persons a subscript series
 * is guessed at, the generic plan never looked cheaper and PostgreSQL planned every call anew
 * (`pg_prepared_statements`: 20 custom plans of 20). One text a type: in service only CarePlan's.
 */
export function personsMany(resourceType: string): string {
  if (!RESOURCE_TYPE.test(resourceType)) throw new RangeError(`a resource type must be a FHIR resource type's name, not "${resourceType}"`);
  return `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT v.plan_id, v.version, v.recorded_at, v.recorded_by, p.status,
           d.basis, d.summary, t.resource_type AS text_type, t.resource_id AS text_id, t.head, t.tail
         FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $2
         LEFT JOIN plan_version_texts t ON t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = $2 AND t.resource_type = '${resourceType}'
         WHERE p.person_identifier = ($1::text[])[k.n] ORDER BY p.plan_id LIMIT $3) AS x
       ORDER BY k.n, x.plan_id`;
}

/** Most persons in one statement. */
export const MAX_PERSON_BATCH = 200;

/**
 * Reads the keys' searches, one statement per deriver, resource type and limit among them; a group
 * of one through `one`, the search's own statement.
 */
export async function readPersons(sql: SqlQueryable, keys: readonly PersonKey[], one: (key: PersonKey) => Promise<StoredVersionHead[]>): Promise<StoredVersionHead[][]> {
  const results: StoredVersionHead[][] = keys.map(() => []);
  const groups = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const group = JSON.stringify([key.deriver, key.resourceType, key.limit]);
    const places = groups.get(group);
    if (places === undefined) groups.set(group, [index]);
    else places.push(index);
  });
  await Promise.all(
    [...groups.values()].map(async (places) => {
      const wanted = places.map((index) => keys[index]).filter((key) => key !== undefined);
      const [first] = wanted;
      if (first === undefined) return;
      if (wanted.length === 1) {
        results[places[0] ?? 0] = await one(first);
        return;
      }
      const rows = await sql.query<HeadRow & { n: string | number }>(personsMany(first.resourceType), [wanted.map((key) => key.personIdentifier), first.deriver, first.limit]);
      for (const row of rows) {
        const index = places[Number(row.n) - 1];
        if (index !== undefined) results[index]?.push(toHead(row));
      }
    }),
  );
  return results;
}

/** A loader of person searches that sends those asked for in one turn of the event loop together; nothing is remembered. */
export function personLoader(sql: SqlQueryable, one: (key: PersonKey) => Promise<StoredVersionHead[]>): DataLoader<PersonKey, StoredVersionHead[]> {
  return new DataLoader<PersonKey, StoredVersionHead[]>((keys) => readPersons(sql, keys, one), {
    cache: false,
    maxBatchSize: MAX_PERSON_BATCH,
    batchScheduleFn: (callback) => setImmediate(callback),
  });
}
