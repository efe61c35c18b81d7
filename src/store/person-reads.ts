/**
 * A person's plans as a search reads them, coalesced (coalesced.ts): the person searches of one turn
 * of the event loop go to PostgreSQL as one statement, a turn's only search as the statement it was
 * (sql-plan-store.ts `searchStatement`). Two forms: the FHIR search's (`PlanStore.searchHeads` with
 * the person alone, what `GET /fhir/CarePlan?patient:identifier=…` asks: the versions' heads with a
 * kept text each) and the SIP API's (`PlanStore.search` with the person alone, what
 * `GET /sip/plans?person=…` asks: the versions whole, with their send basis).
 */
import type DataLoader from 'dataloader';
import { coalescedLoader, coalescedRowsLoader, type PlacedHeadRow } from './coalesced.js';
import { keptTextsJoin, TEXT_ROW_TYPES } from './kept-texts.js';
import type { PlanSearch, StoredPlan, StoredVersionHead } from './plan-store.js';
import { BASIS_COLUMNS, DERIVED_TEXT_COLUMNS, HEAD_COLUMNS, RESOURCE_TYPE, toStored, VERSION_COLUMNS, type VersionRow } from './plan-rows.js';
import type { SqlQueryable } from './sql-client.js';

/** A search of one person's current versions with the kept text of one resource type each, a page of `limit`. */
export interface PersonKey {
  readonly personIdentifier: string;
  readonly deriver: string;
  readonly resourceType: string;
  readonly limit: number;
}

/**
 * The person and what is derived, of a search that may be coalesced: the person alone (nothing else
 * narrows it), uncounted, from the first plan. Undefined for any other search, which is run as it is.
 */
function personAlone(query: PlanSearch): { readonly personIdentifier: string; readonly derived: PlanSearch['derived'] } | undefined {
  const { personIdentifier, derived, total, offset, ...others } = query;
  const narrowing = Object.keys(others).some((name) => name !== 'limit');
  if (personIdentifier === undefined || narrowing || total !== false || (offset ?? 0) !== 0) return undefined;
  return { personIdentifier, derived };
}

/**
 * The search as a {@link PersonKey} when it is one: the person alone ({@link personAlone}), with the
 * kept text of a resource type (not one resource). Any other search is run as it is.
 */
export function personKeyOf(query: PlanSearch, limit: number): PersonKey | undefined {
  const alone = personAlone(query);
  const derived = alone?.derived;
  if (alone === undefined || derived?.resourceType === undefined || derived.resourceId !== undefined || derived.text === false) return undefined;
  return { personIdentifier: alone.personIdentifier, deriver: derived.deriver, resourceType: derived.resourceType, limit };
}

/**
 * The persons' searches, each row with its person's place in the array (`k.n`, from 1), a person's
 * plans in the order of their ids up to the limit, as `searchStatement` gives them; each with the
 * kept text of `resourceType`. Read by subscripts, not `unnest`, for the reason kept-reads.ts
 * `KEPT_MANY` gives; the `LIMIT` keeps each person's lookup a subquery of its own, through the person
 * index. The resource type is written into the text, not bound: bound, a custom plan knew it and the
 * generic one guessed two texts a plan where there is one; times the 1,000 persons a subscript series
 * is guessed at, the generic plan never looked cheaper and PostgreSQL planned every call anew
 * (`pg_prepared_statements`: 20 custom plans of 20). One text a type: in service only CarePlan's, a
 * row; another type's texts are read where they are kept (kept-texts.ts).
 */
export function personsMany(resourceType: string): string {
  if (!RESOURCE_TYPE.test(resourceType)) throw new RangeError(`a resource type must be a FHIR resource type's name, not "${resourceType}"`);
  return `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${HEAD_COLUMNS}, p.status, ${DERIVED_TEXT_COLUMNS}
         FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $2${keptTextsJoin('$2', `'${resourceType}'`, undefined, { rowsOnly: TEXT_ROW_TYPES.has(resourceType) })}
         WHERE p.person_identifier = ($1::text[])[k.n] ORDER BY p.plan_id LIMIT $3) AS x
       ORDER BY k.n, x.plan_id`;
}

/** A loader of person searches: `one` runs a search in its own statement. */
export function personLoader(sql: SqlQueryable, one: (key: PersonKey) => Promise<StoredVersionHead[]>): DataLoader<PersonKey, StoredVersionHead[]> {
  return coalescedLoader<PersonKey>({
    groupOf: (key) => JSON.stringify([key.deriver, key.resourceType, key.limit]),
    one,
    many: (keys) => {
      const [first] = keys;
      return first === undefined ? Promise.resolve([]) : sql.query<PlacedHeadRow>(personsMany(first.resourceType), [keys.map((key) => key.personIdentifier), first.deriver, first.limit]);
    },
  });
}

/** A search of one person's current versions whole, with the send basis kept under `deriver` when one is named, a page of `limit`. */
export interface PersonPlansKey {
  readonly personIdentifier: string;
  readonly deriver?: string;
  readonly limit: number;
}

/**
 * The search as a {@link PersonPlansKey} when it is one: the person alone ({@link personAlone}), with
 * nothing derived or the send basis alone (`derived` naming no resource type). Any other search is
 * run as it is.
 */
export function personPlansKeyOf(query: PlanSearch, limit: number): PersonPlansKey | undefined {
  const alone = personAlone(query);
  if (alone === undefined) return undefined;
  const { personIdentifier, derived } = alone;
  if (derived !== undefined && (derived.resourceType !== undefined || derived.resourceId !== undefined || derived.text !== undefined)) return undefined;
  return { personIdentifier, limit, ...(derived === undefined ? {} : { deriver: derived.deriver }) };
}

/**
 * The persons' searches of whole versions, each row placed by its person (`k.n`, from 1), a person's
 * plans in the order of their ids up to the limit, as `searchStatement` gives them; with `withBasis`
 * each with what a SIP search judges and answers with (`BASIS_COLUMNS`) kept under the deriver `$3`
 * (null when none is), as `derivedJoin` joins it.
 * Read by subscripts behind a `LIMIT`, as {@link personsMany}.
 */
export function personPlansMany(withBasis: boolean): string {
  return `SELECT k.n, x.* FROM generate_subscripts($1::text[], 1) AS k (n)
       CROSS JOIN LATERAL (SELECT ${VERSION_COLUMNS}${withBasis ? `, ${BASIS_COLUMNS}` : ''}
         FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version${withBasis ? `
         LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3` : ''}
         WHERE p.person_identifier = ($1::text[])[k.n] ORDER BY p.plan_id LIMIT $2) AS x
       ORDER BY k.n, x.plan_id`;
}

/** A loader of person searches of whole versions: `one` runs a search in its own statement. */
export function personPlansLoader(sql: SqlQueryable, one: (key: PersonPlansKey) => Promise<StoredPlan[]>): DataLoader<PersonPlansKey, StoredPlan[]> {
  return coalescedRowsLoader<PersonPlansKey, VersionRow, StoredPlan>({
    groupOf: (key) => JSON.stringify([key.deriver ?? null, key.limit]),
    one,
    many: (keys) => {
      const [first] = keys;
      if (first === undefined) return Promise.resolve([]);
      const persons = keys.map((key) => key.personIdentifier);
      return first.deriver === undefined ? sql.query(personPlansMany(false), [persons, first.limit]) : sql.query(personPlansMany(true), [persons, first.limit, first.deriver]);
    },
    result: toStored,
  });
}
