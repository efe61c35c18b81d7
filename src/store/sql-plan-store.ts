/**
 * The PlanStore over the SQL client (sql-client.ts): the same statements for PGlite and PostgreSQL.
 * Schema in migrations.ts; the search columns in search-columns.ts.
 */
import { formatDate, isParsedPlan, parsePlan, planModelVersion, stockholmDate, type SipPlan } from '../sip/index.js';
import type DataLoader from 'dataloader';
import { AuditWriter, auditInsert } from './audit-writer.js';
import { currentLoader, type CurrentKey } from './current-reads.js';
import { keptLoader, type KeptKey } from './kept-reads.js';
import { personKeyOf, personLoader, personPlansKeyOf, personPlansLoader, type PersonKey, type PersonPlansKey } from './person-reads.js';
import { checkReceiverIds, enqueueDeliveries, SqlOutboxStore, type OutboxStore } from './outbox.js';
import { BASIS_COLUMNS, DERIVED_TEXT_COLUMNS, documentOf, HEAD_COLUMNS, isoInstant, RESOURCE_TYPE, toHead, toStored, VERSION_COLUMNS, type HeadRow, type VersionRow } from './plan-rows.js';
import { keptTextsJoin, PACKED_COLUMNS, packedValues, splitTexts, TEXT_ROW_TYPES, utf8Packed } from './kept-texts.js';
import { migrate } from './migrations.js';
import {
  InvalidPlanError,
  PlanExistsError,
  PlanNotFoundError,
  VersionConflictError,
  type AuditEntry,
  type AuditQuery,
  type DerivedRequest,
  type DerivedText,
  type DerivedVersion,
  type PlanResource,
  type PlanResourcesOf,
  type PlanSearch,
  type UncountedPlanSearch,
  type VersionKey,
  type PlanStore,
  type RecordedAuditEntry,
  type RecordedVersion,
  type StoredPlan,
  type StoredVersionHead,
  type VersionTime,
  type VersionWriteOptions,
} from './plan-store.js';
import { principalSearchKeys, searchColumns } from './search-columns.js';
import { sqlState, type SqlClient, type SqlQueryable } from './sql-client.js';
import { analyzeDue, statisticsKeeping, vacuumDue } from './statistics.js';

/** How many rows a search or an audit query returns when not told, and the most it returns. */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1_000;

const UNIQUE_VIOLATION = '23505';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A FHIR resource type name (R4 names are letters only) and a FHIR id (https://hl7.org/fhir/R4/datatypes.html#id). */
const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;


interface AuditRow {
  id: string | number;
  at: Date | string;
  organization: string;
  agent: string | null;
  plan_id: string | null;
  person_identifier: string | null;
  action: AuditEntry['action'];
  what: string;
  outcome: AuditEntry['outcome'];
  detail: string | null;
}

const AUDIT_COLUMNS = 'a.id::text AS id, a.at, a.organization, a.agent, a.plan_id, a.person_identifier, a.action, a.what, a.outcome, a.detail';
/** An audit entry's id: the text of a positive bigint. */
const AUDIT_ID = /^[1-9]\d{0,18}$/;


/**
 * The plan as the SIP model has it, with defaults filled in and identifiers normalised. A plan the
 * model's schema returned is that already (`isParsedPlan`: parsing it again gives it back), and is
 * taken as it is; any other is parsed, and refused when it is not a plan.
 */
function validated(plan: SipPlan): SipPlan {
  if (isParsedPlan(plan)) return plan;
  const result = parsePlan(plan);
  if (!result.ok) {
    const id = (plan as { id?: unknown }).id;
    throw new InvalidPlanError(typeof id === 'string' ? id : undefined, result.problems);
  }
  return result.plan;
}

/**
 * The columns and joins that bring what was derived from the version `v` under a deriver, and the
 * text of the resource asked for (migration 6); `param` binds a value and names its placeholder.
 */
function derivedJoin(request: DerivedRequest | undefined, param: (value: unknown) => string): { columns: string; joins: string } {
  if (request === undefined) return { columns: '', joins: '' };
  const deriver = param(request.deriver);
  const basis = ` LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = ${deriver}`;
  // A read that answers the plan (the SIP API): judged on the summary, answered with the kept traffic light and status.
  if (request.resourceType === undefined) return { columns: `, ${BASIS_COLUMNS}`, joins: basis };
  if (request.text === false) return { columns: ', d.basis, d.summary', joins: basis };
  const id = request.resourceId === undefined ? undefined : param(request.resourceId);
  return {
    columns: `, ${DERIVED_TEXT_COLUMNS}`,
    joins: `${basis}${keptTextsJoin(deriver, param(request.resourceType), id, { rowsOnly: TEXT_ROW_TYPES.has(request.resourceType) })}`,
  };
}

/** What is written beside a version, checked before anything is: receiver ids, derived data, the audit entry's instant. */
function checkVersionWrite(resources: readonly PlanResource[], options: VersionWriteOptions): void {
  checkResources(resources);
  checkReceiverIds(options.deliverTo ?? []);
  checkDerived(options.derived);
  if (options.audit !== undefined) checkInstant('at', options.audit.at);
}

function checkDerived(derived: DerivedVersion | undefined): DerivedVersion | undefined {
  if (derived === undefined) return undefined;
  checkResources(derived.texts);
  if (derived.deriver === '') throw new RangeError('a deriver must be named');
  return derived;
}

/** Keeps what was derived from a version (migration 6); what is kept under the same deriver stays as it is. */
async function insertDerived(tx: SqlQueryable, planId: string, version: number, derived: DerivedVersion): Promise<void> {
  const { rows, packed } = splitTexts(derived.texts);
  const params: unknown[] = [planId, version, derived.deriver, derived.basis, derived.summary ?? null, derived.standing?.trafficLight ?? null, derived.standing?.status ?? null];
  const [kept] = await tx.query<{ plan_id: string }>(
    `INSERT INTO plan_version_derived (plan_id, version, deriver, basis, summary, traffic_light, plan_status, ${PACKED_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, ${packedValues(packed, (value) => `$${String(params.push(value))}`)}) ON CONFLICT DO NOTHING RETURNING plan_id`,
    params,
  );
  if (kept === undefined || rows.length === 0) return;
  await insertTexts(tx, planId, version, derived.deriver, rows);
}

/** Keeps derived texts of a version under its deriver as rows (migration 6, kept-texts.ts `TEXT_ROW_TYPES`); a text already kept stays as it is. */
async function insertTexts(tx: SqlQueryable, planId: string, version: number, deriver: string, texts: readonly DerivedText[]): Promise<void> {
  const params: unknown[] = [planId, version, deriver];
  const select = textsSelect('$1::text, $2::integer, $3::text', undefined, texts, (value) => `$${String(params.push(value))}`);
  await tx.query(`INSERT INTO plan_version_texts (plan_id, version, deriver, resource_type, resource_id, head, tail) ${select} ON CONFLICT DO NOTHING`, params);
}

/**
 * The rows of `texts` as a SELECT of `key` (the version's plan_id, version and deriver), joined with
 * `from` when given, and each text's type, id, head and tail — every head and tail in one bytea
 * parameter of their UTF-8, cut by byte offsets (kept-texts.ts `utf8Packed`, the layout the packed
 * texts keep; `convert_from` checks the UTF-8 and refuses U+0000 as a text parameter is refused).
 * Since migration 12 only the CarePlan's text is written so. The statement's text is then the same whatever the number of
 * texts: with a parameter of its own for each text (four a text, in rows of VALUES), every count of
 * texts made a text of its own, and a server that had met many shapes of plan ran out of the
 * statement names the pool prepares (`MAX_PREPARED_STATEMENTS`): such a create went unnamed and was
 * planned anew each time, ≈ 1.9 ms of PostgreSQL CPU more a transaction (bench/pg-plan-cache.ts). As
 * one parameter the texts go as they are, not escaped as text[] elements would be
 * (https://www.postgresql.org/docs/15/arrays.html#ARRAYS-IO), and a Buffer goes in binary form.
 */
function textsSelect(key: string, from: string | undefined, texts: readonly DerivedText[], param: (value: unknown) => string): string {
  const packed = utf8Packed(texts);
  const bytes = `${param(packed.bytes)}::bytea`;
  // Text i's head is the bytes from bounds[2i−1] to bounds[2i], its tail from there to bounds[2i+1] (SQL counts from 1).
  const rows = `unnest(${param(packed.types)}::text[], ${param(packed.ids)}::text[]) WITH ORDINALITY AS t (resource_type, resource_id, i) CROSS JOIN (SELECT ${param(packed.bounds)}::integer[] AS b) AS p`;
  return `SELECT ${key}, t.resource_type, t.resource_id,
         convert_from(substring(${bytes} FROM p.b[2 * t.i - 1] + 1 FOR p.b[2 * t.i] - p.b[2 * t.i - 1]), 'UTF8'), convert_from(substring(${bytes} FROM p.b[2 * t.i] + 1 FOR p.b[2 * t.i + 1] - p.b[2 * t.i]), 'UTF8')
       FROM ${from === undefined ? rows : `${from} CROSS JOIN ${rows}`}`;
}

function checkLimit(name: string, value: number | undefined, fallback: number, max: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 0 || result > max) throw new RangeError(`${name} must be an integer from 0 to ${String(max)}, not ${String(value)}`);
  return result;
}

function checkDate(name: string, value: string): string {
  if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new RangeError(`${name} must be a date as YYYY-MM-DD, not "${value}"`);
  return value;
}

function checkInstant(name: string, value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new RangeError(`${name} must be an ISO 8601 instant, not "${value}"`);
  return value;
}

function checkResources(resources: readonly PlanResource[]): readonly PlanResource[] {
  const bad = resources.find((resource) => !RESOURCE_TYPE.test(resource.resourceType) || !RESOURCE_ID.test(resource.id));
  if (bad !== undefined) throw new RangeError(`a plan resource must be a FHIR resource type and id, not "${bad.resourceType}/${bad.id}"`);
  return resources;
}

/**
 * Writes a new version — its row, its resources, what was derived from it with all its texts (the
 * CarePlan's a row by {@link textsSelect}, the others packed on the derived row: kept-texts.ts) and,
 * for a new plan (`newPlan`), the plan's row with its search columns, and the audit entry of the call
 * that records it (`options.audit`) — in one statement of data-modifying
 * `WITH` queries, then its deliveries. It writes the rows the former statements wrote one at a time
 * (one per table, each a round trip to PostgreSQL with its own parse, bind and socket write: a third of a
 * transaction's store time on the server, docs/performance.md branch `i11-tx7`), with the same
 * constraints: a foreign key is checked at the end of the statement, when the rows it refers to are
 * there; the texts are written only when the derived row was (`ON CONFLICT DO NOTHING RETURNING`,
 * as before). test/store/one-statement-write.test.ts holds the stored rows equal to the former
 * statements', the texts compared as kept in either place.
 */
async function insertVersion(tx: SqlQueryable, plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions, newPlan = false): Promise<StoredPlan> {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${String(params.push(value))}`;
  const queries: string[] = [];
  if (newPlan) {
    const columns = searchColumns(plan);
    queries.push(`plan_row AS (INSERT INTO plans (plan_id, version, person_identifier, status, principal_keys, next_follow_up, consent_ends, closed)
       VALUES (${param(plan.id)}, ${param(plan.version)}, ${param(columns.personIdentifier)}, ${param(columns.status)}, ${param(columns.principalKeys)}::text[], ${param(columns.nextFollowUp)}::date, ${param(columns.consentEnds)}::date, ${param(columns.closed)}))`);
  }
  queries.push(`version_row AS (INSERT INTO plan_versions (plan_id, version, document, model, recorded_by)
       VALUES (${param(plan.id)}, ${param(plan.version)}, ${param(JSON.stringify(plan))}::json, ${param(planModelVersion())}, ${param(recordedBy)}) RETURNING recorded_at)`);
  queries.push(`resource_rows AS (INSERT INTO plan_resources (resource_type, resource_id, plan_id)
       SELECT resource_type, resource_id, ${param(plan.id)}::text FROM unnest(${param(resources.map((id) => id.resourceType))}::text[], ${param(resources.map((id) => id.id))}::text[]) AS r (resource_type, resource_id)
       ON CONFLICT DO NOTHING)`);
  const { derived } = options;
  if (derived !== undefined) {
    const { rows, packed } = splitTexts(derived.texts);
    queries.push(`derived_row AS (INSERT INTO plan_version_derived (plan_id, version, deriver, basis, summary, traffic_light, plan_status, ${PACKED_COLUMNS})
       VALUES (${param(plan.id)}, ${param(plan.version)}, ${param(derived.deriver)}, ${param(derived.basis)}, ${param(derived.summary ?? null)}, ${param(derived.standing?.trafficLight ?? null)}, ${param(derived.standing?.status ?? null)}, ${packedValues(packed, param)}) ON CONFLICT DO NOTHING RETURNING plan_id, version, deriver)`);
    // Only when the derived row was written (ON CONFLICT DO NOTHING RETURNING gives no row otherwise), as before.
    queries.push(`text_rows AS (INSERT INTO plan_version_texts (plan_id, version, deriver, resource_type, resource_id, head, tail)
       ${textsSelect('d.plan_id, d.version, d.deriver', 'derived_row d', rows, param)}
       ON CONFLICT DO NOTHING)`);
  }
  // The call's audit entry, in the version's statement: no round trip of its own, and committed with the version or not at all.
  if (options.audit !== undefined) queries.push(`audit_row AS (${auditInsert([options.audit], param)})`);
  const [row] = await tx.query<{ recorded_at: Date | string }>(`WITH ${queries.join(', ')} SELECT recorded_at FROM version_row`, params);
  if (row === undefined) throw new Error(`no row returned for plan "${plan.id}" version ${String(plan.version)}`);
  await enqueueDeliveries(tx, plan.id, plan.version, options.deliverTo ?? []);
  return { plan, version: plan.version, recordedAt: isoInstant(row.recorded_at), recordedBy };
}

/** Records the FHIR resources of a plan version (migration 2); pairs already recorded stay as they are. */
async function indexResources(tx: SqlQueryable, planId: string, ids: readonly PlanResource[]): Promise<void> {
  await tx.query(
    `INSERT INTO plan_resources (resource_type, resource_id, plan_id)
     SELECT resource_type, resource_id, $3 FROM unnest($1::text[], $2::text[]) AS r (resource_type, resource_id)
     ON CONFLICT DO NOTHING`,
    [ids.map((id) => id.resourceType), ids.map((id) => id.id), planId],
  );
}

function columnValues(plan: SipPlan): unknown[] {
  const columns = searchColumns(plan);
  return [plan.id, plan.version, columns.personIdentifier, columns.status, columns.principalKeys, columns.nextFollowUp, columns.consentEnds, columns.closed];
}

function checkAuditId(name: string, value: string): string {
  if (!AUDIT_ID.test(value)) throw new RangeError(`${name} must be the id of an audit entry (a positive whole number), not "${value}"`);
  return value;
}

/**
 * The audit entries the organisation named by the parameter may review (AuditQuery.visibleTo): its
 * own, those about a plan whose current version has it as a principal, and those naming no plan but
 * the person of such a plan.
 */
function visibleTo(organization: string): string {
  const principalOf = `SELECT p.plan_id, p.person_identifier FROM plans p WHERE p.principal_keys && ARRAY[${organization}]::text[]`;
  return `(a.organization = ${organization}
    OR a.plan_id IN (SELECT plan_id FROM (${principalOf}) AS own)
    OR (a.plan_id IS NULL AND a.person_identifier IN (SELECT person_identifier FROM (${principalOf}) AS own)))`;
}

/** The conditions of an audit query but its page (`afterId`, `limit`), with their parameters. */
function auditFilter(query: AuditQuery): { params: unknown[]; where: string[]; param: (value: unknown) => string } {
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown): string => `$${String(params.push(value))}`;
  if (query.personIdentifier !== undefined) where.push(`a.person_identifier = ${param(query.personIdentifier)}`);
  if (query.organization !== undefined) where.push(`a.organization = ${param(query.organization)}`);
  if (query.agent !== undefined) where.push(`a.agent = ${param(query.agent)}`);
  if (query.planId !== undefined) where.push(`a.plan_id = ${param(query.planId)}`);
  if (query.since !== undefined) where.push(`a.at >= ${param(checkInstant('since', query.since))}::timestamptz`);
  if (query.until !== undefined) where.push(`a.at <= ${param(checkInstant('until', query.until))}::timestamptz`);
  if (query.before !== undefined) where.push(`a.at < ${param(checkInstant('before', query.before))}::timestamptz`);
  if (query.visibleTo !== undefined) where.push(visibleTo(param(query.visibleTo)));
  return { params, where, param };
}

function toAuditEntry(row: AuditRow): RecordedAuditEntry {
  return {
    id: String(row.id),
    at: isoInstant(row.at),
    organization: row.organization,
    ...(row.agent === null ? {} : { agent: row.agent }),
    ...(row.plan_id === null ? {} : { planId: row.plan_id }),
    ...(row.person_identifier === null ? {} : { personIdentifier: row.person_identifier }),
    action: row.action,
    what: row.what,
    outcome: row.outcome,
    ...(row.detail === null ? {} : { detail: row.detail }),
  };
}

/** A search's statement (its page, with a window count of every match before LIMIT) and the count that stands in for it when the page is empty. */
interface SearchStatement {
  readonly text: string;
  readonly params: unknown[];
  readonly countText: string;
  readonly countParams: unknown[];
}

/** The statement of a search's page, each row with the version's `columns` and what `query.derived` asks for. */
function searchStatement(query: PlanSearch, columns: string): SearchStatement {
  const limit = checkLimit('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT);
  const offset = checkLimit('offset', query.offset, 0, Number.MAX_SAFE_INTEGER);
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown): string => `$${String(params.push(value))}`;
  if (query.personIdentifier !== undefined) where.push(`p.person_identifier = ${param(query.personIdentifier)}`);
  if (typeof query.status === 'string') where.push(`p.status = ${param(query.status)}`);
  else if (query.status !== undefined) where.push(`p.status = ANY(${param(query.status)}::text[])`);
  if (query.afterPlanId !== undefined) where.push(`p.plan_id > ${param(query.afterPlanId)}`);
  if (query.principal !== undefined) where.push(`p.principal_keys && ${param(principalSearchKeys(query.principal))}::text[]`);
  if (query.followUpDueBy !== undefined) where.push(`p.next_follow_up <= ${param(checkDate('followUpDueBy', query.followUpDueBy))}::date`);
  if (query.consentEndsBy !== undefined) where.push(`p.consent_ends <= ${param(checkDate('consentEndsBy', query.consentEndsBy))}::date`);
  if (query.overdueAt !== undefined) {
    if (Number.isNaN(query.overdueAt.getTime())) throw new RangeError('overdueAt is not a valid date');
    // As lifecycle.ts overdueFollowUps: open, and a follow-up dated before today in Stockholm unheld.
    where.push(`NOT p.closed AND p.next_follow_up < ${param(formatDate(stockholmDate(query.overdueAt)))}::date`);
  }
  const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  const countParams = params.slice();
  const derived = derivedJoin(query.derived, param);
  // Counted: one statement for the page and the total; only a page that comes back empty has to count on its own.
  const total = query.total === false ? '' : ', count(*) OVER ()::integer AS total';
  return {
    text: `SELECT ${columns}${derived.columns}${total} FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version${derived.joins}
       ${filter} ORDER BY p.plan_id LIMIT ${param(limit)} OFFSET ${param(offset)}`,
    params,
    countText: `SELECT count(*)::integer AS total FROM plans p ${filter}`,
    countParams,
  };
}

/**
 * The statement of the current versions of the plans whose view has the resource `resourceType/resourceId`,
 * in plan id order, with `columns` of each version and, given a deriver, what was derived from it and
 * the resource's kept text: `currentWithResource` (the whole version) and a kept read alone (its head).
 */
function currentWithResourceStatement(columns: string, resourceType: string, resourceId: string, deriver: string | undefined): { text: string; params: unknown[] } {
  const params: unknown[] = [resourceType, resourceId];
  const param = (value: unknown): string => `$${String(params.push(value))}`;
  const derived = derivedJoin(deriver === undefined ? undefined : { deriver, resourceType, resourceId }, param);
  const text = `SELECT ${columns}${derived.columns} FROM plan_resources r
       JOIN plans p ON p.plan_id = r.plan_id JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version${derived.joins}
       WHERE r.resource_type = $1 AND r.resource_id = $2 ORDER BY p.plan_id`;
  return { text, params };
}

export class SqlPlanStore implements PlanStore {
  private readonly auditWriter: AuditWriter;
  readonly outbox: OutboxStore;
  readonly statistics: PlanStore['statistics'];
  private readonly kept: DataLoader<KeptKey, StoredVersionHead[]>;
  private readonly persons: DataLoader<PersonKey, StoredVersionHead[]>;
  private readonly personPlans: DataLoader<PersonPlansKey, StoredPlan[]>;
  private readonly current: DataLoader<CurrentKey, StoredPlan[]>;

  constructor(private readonly client: SqlClient) {
    this.auditWriter = new AuditWriter(client);
    this.current = currentLoader(client, async ({ planId, deriver }) => {
      const stored = await this.getAlone(planId, undefined, deriver === undefined ? {} : { derived: { deriver } });
      return stored === undefined ? [] : [stored];
    });
    this.kept = keptLoader(client, (key) => this.keptAlone(key));
    this.persons = personLoader(client, async ({ personIdentifier, deriver, resourceType, limit }) => {
      const { plans } = await this.searchHeadsAlone({ personIdentifier, limit, derived: { deriver, resourceType }, total: false });
      return plans;
    });
    this.personPlans = personPlansLoader(client, async ({ personIdentifier, deriver, limit }) => {
      const { plans } = await this.searchAlone({ personIdentifier, limit, ...(deriver === undefined ? {} : { derived: { deriver } }), total: false });
      return plans;
    });
    this.outbox = new SqlOutboxStore(client);
    this.statistics = { keeping: () => statisticsKeeping(client), analyzeDue: (options) => analyzeDue(client, options), vacuumDue: (options) => vacuumDue(client, options) };
  }

  async migrate(options: { readonly resourcesOf?: PlanResourcesOf } = {}): Promise<void> {
    await migrate(this.client);
    const { resourcesOf } = options;
    if (resourcesOf === undefined) return;
    // Plans written before migration 2 have no resources recorded: record those of every version.
    const unindexed = await this.client.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM plan_versions v WHERE NOT EXISTS (SELECT 1 FROM plan_resources r WHERE r.plan_id = v.plan_id) ORDER BY v.plan_id, v.version`,
    );
    for (const row of unindexed) {
      const parsed = parsePlan(documentOf(row) ?? row.plan);
      if (parsed.ok) await indexResources(this.client, parsed.plan.id, checkResources(resourcesOf(parsed.plan)));
    }
  }

  async create(input: SipPlan, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions = {}): Promise<StoredPlan> {
    const plan = validated(input);
    checkVersionWrite(resources, options);
    if (plan.version !== 1) throw new VersionConflictError(plan.id, plan.version - 1, 0);
    try {
      // The primary key of `plans` decides between concurrent creates: the loser waits for the
      // winner's commit and then fails with a unique violation. A create without deliveries is one
      // statement and needs no transaction around it: a statement is atomic, and deferred keys are
      // checked when it commits. BEGIN and COMMIT were two of its round trips.
      if ((options.deliverTo ?? []).length === 0) return await insertVersion(this.client, plan, recordedBy, resources, options, true);
      return await this.client.transaction((tx) => insertVersion(tx, plan, recordedBy, resources, options, true));
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) throw new PlanExistsError(plan.id);
      throw error;
    }
  }

  async update(input: SipPlan, expectedVersion: number, recordedBy: string, resources: readonly PlanResource[], options: VersionWriteOptions = {}): Promise<StoredPlan> {
    const plan = validated(input);
    checkVersionWrite(resources, options);
    return this.client.transaction(async (tx) => {
      // The row lock serialises writes to one plan: a concurrent update waits here, then reads the
      // version the winner wrote and fails the check below.
      const [current] = await tx.query<{ version: number }>('SELECT version FROM plans WHERE plan_id = $1 FOR UPDATE', [plan.id]);
      if (current === undefined) throw new PlanNotFoundError(plan.id);
      if (current.version !== expectedVersion) throw new VersionConflictError(plan.id, expectedVersion, current.version);
      if (plan.version !== expectedVersion + 1) throw new VersionConflictError(plan.id, plan.version - 1, current.version);
      const stored = await insertVersion(tx, plan, recordedBy, resources, options);
      await tx.query(
        `UPDATE plans SET version = $2, person_identifier = $3, status = $4, principal_keys = $5::text[],
           next_follow_up = $6::date, consent_ends = $7::date, closed = $8
         WHERE plan_id = $1`,
        columnValues(plan),
      );
      return stored;
    });
  }

  async derive(planId: string, version: number, derived: DerivedVersion): Promise<void> {
    checkDerived(derived);
    await this.client.transaction(async (tx) => {
      const [row] = await tx.query<{ version: number }>('SELECT version FROM plan_versions WHERE plan_id = $1 AND version = $2', [planId, version]);
      if (row === undefined) throw new PlanNotFoundError(planId);
      await insertDerived(tx, planId, version, derived);
    });
  }

  async get(planId: string, version?: number, options: { readonly derived?: DerivedRequest } = {}): Promise<StoredPlan | undefined> {
    const { derived } = options;
    // A current version, alone or with its send basis: with the other such reads of the turn (current-reads.ts).
    if (version === undefined && (derived === undefined || derived.resourceType === undefined)) {
      const [stored] = await this.current.load(derived === undefined ? { planId } : { planId, deriver: derived.deriver });
      return stored;
    }
    return this.getAlone(planId, version, options);
  }

  /** {@link get} in a statement of its own. */
  private async getAlone(planId: string, version?: number, options: { readonly derived?: DerivedRequest } = {}): Promise<StoredPlan | undefined> {
    const params: unknown[] = [planId];
    const param = (value: unknown): string => `$${String(params.push(value))}`;
    const from =
      version === undefined
        ? `plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version`
        : `plan_versions v`;
    const where = version === undefined ? 'p.plan_id = $1' : `v.plan_id = $1 AND v.version = ${param(version)}`;
    const derived = derivedJoin(options.derived, param);
    const rows = await this.client.query<VersionRow>(`SELECT ${VERSION_COLUMNS}${derived.columns} FROM ${from}${derived.joins} WHERE ${where}`, params);
    const [row] = rows;
    return row === undefined ? undefined : toStored(row);
  }

  async history(planId: string): Promise<StoredPlan[]> {
    const rows = await this.client.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM plan_versions v WHERE v.plan_id = $1 ORDER BY v.version`, [planId]);
    return rows.map(toStored);
  }

  async versionTimes(planId: string): Promise<VersionTime[]> {
    const rows = await this.client.query<{ version: number; recorded_at: Date | string }>('SELECT version, recorded_at FROM plan_versions WHERE plan_id = $1 ORDER BY version', [planId]);
    return rows.map((row) => ({ version: row.version, recordedAt: isoInstant(row.recorded_at) }));
  }

  async recentVersions(query: { readonly limit: number; readonly since?: Date; readonly after?: { readonly planId: string; readonly version: number } }): Promise<RecordedVersion[]> {
    const limit = checkLimit('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT);
    const params: unknown[] = [limit];
    const param = (value: unknown): string => `$${String(params.push(value))}`;
    const where: string[] = [];
    if (query.since !== undefined) where.push(`v.recorded_at >= ${param(query.since.toISOString())}::timestamptz`);
    if (query.after !== undefined) {
      where.push(
        `(v.recorded_at, v.plan_id, v.version) < (SELECT c.recorded_at, c.plan_id, c.version FROM plan_versions c WHERE c.plan_id = ${param(query.after.planId)} AND c.version = ${param(query.after.version)}::integer)`,
      );
    }
    const rows = await this.client.query<{ plan_id: string; version: number; recorded_at: Date | string }>(
      `SELECT v.plan_id, v.version, v.recorded_at FROM plan_versions v ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
       ORDER BY v.recorded_at DESC, v.plan_id DESC, v.version DESC LIMIT $1`,
      params,
    );
    return rows.map((row) => ({ planId: row.plan_id, version: row.version, recordedAt: isoInstant(row.recorded_at) }));
  }

  async versions(
    planId: string,
    versions: readonly number[],
    options: { readonly derived?: DerivedRequest } = {},
  ): Promise<StoredPlan[]> {
    if (versions.length === 0) return [];
    for (const version of versions) if (!Number.isSafeInteger(version) || version < 1) throw new RangeError(`a plan version is a whole number from 1, not ${String(version)}`);
    const params: unknown[] = [planId, [...versions]];
    const param = (value: unknown): string => `$${String(params.push(value))}`;
    const derived = derivedJoin(options.derived, param);
    const rows = await this.client.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS}${derived.columns} FROM plan_versions v${derived.joins} WHERE v.plan_id = $1 AND v.version = ANY($2::integer[]) ORDER BY v.version`,
      params,
    );
    return rows.map(toStored);
  }

  search(query: UncountedPlanSearch): Promise<{ plans: StoredPlan[] }>;
  search(query: PlanSearch): Promise<{ total: number; plans: StoredPlan[] }>;
  async search(query: PlanSearch): Promise<{ total?: number; plans: StoredPlan[] }> {
    const person = personPlansKeyOf(query, checkLimit('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT));
    if (person !== undefined) return { plans: await this.personPlans.load(person) };
    return this.searchAlone(query);
  }

  /** {@link search} in a statement of its own. */
  private async searchAlone(query: PlanSearch): Promise<{ total?: number; plans: StoredPlan[] }> {
    const statement = searchStatement(query, VERSION_COLUMNS);
    const rows = await this.client.query<VersionRow & { total: number }>(statement.text, statement.params);
    const plans = rows.map(toStored);
    return query.total === false ? { plans } : { total: await this.searchTotal(rows, statement), plans };
  }

  searchHeads(query: UncountedPlanSearch): Promise<{ plans: StoredVersionHead[] }>;
  searchHeads(query: PlanSearch): Promise<{ total: number; plans: StoredVersionHead[] }>;
  async searchHeads(query: PlanSearch): Promise<{ total?: number; plans: StoredVersionHead[] }> {
    const person = personKeyOf(query, checkLimit('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT));
    if (person !== undefined) return { plans: await this.persons.load(person) };
    return this.searchHeadsAlone(query);
  }

  /** {@link searchHeads} in a statement of its own. */
  private async searchHeadsAlone(query: PlanSearch): Promise<{ total?: number; plans: StoredVersionHead[] }> {
    // The plan's status as recorded with its current version, which each head is (StoredVersionHead.status).
    const statement = searchStatement(query, `${HEAD_COLUMNS}, p.status`);
    const rows = await this.client.query<HeadRow & { total: number }>(statement.text, statement.params);
    const plans = rows.map(toHead);
    return query.total === false ? { plans } : { total: await this.searchTotal(rows, statement), plans };
  }

  /** A search's total: its page's window count, or, for a page that came back empty (past the end, or limit 0), counted on its own. */
  private async searchTotal(rows: readonly { total: number }[], statement: SearchStatement): Promise<number> {
    return rows[0]?.total ?? (await this.client.query<{ total: number }>(statement.countText, statement.countParams))[0]?.total ?? 0;
  }

  async keptTexts(versions: readonly VersionKey[], deriver: string, resourceType: string): Promise<(DerivedText & VersionKey)[]> {
    if (versions.length === 0) return [];
    // The versions as `v`, with their derived rows as `d` where the texts' join reads the packed ones (kept-texts.ts).
    const rowsOnly = TEXT_ROW_TYPES.has(resourceType);
    const rows = await this.client.query<{ plan_id: string; version: number; resource_id: string; head: string; tail: string }>(
      `SELECT v.plan_id, v.version, t.resource_id, t.head, t.tail FROM unnest($1::text[], $2::integer[]) AS v (plan_id, version)${rowsOnly ? '' : `
       JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = $3`}${keptTextsJoin('$3', '$4', undefined, { rowsOnly, inner: true })}`,
      [versions.map((key) => key.planId), versions.map((key) => key.version), deriver, resourceType],
    );
    return rows.map((row) => ({ planId: row.plan_id, version: row.version, resourceType, id: row.resource_id, head: row.head, tail: row.tail }));
  }

  async plansWithResource(resourceType: string, resourceId: string): Promise<string[]> {
    const rows = await this.client.query<{ plan_id: string }>(
      'SELECT plan_id FROM plan_resources WHERE resource_type = $1 AND resource_id = $2 ORDER BY plan_id',
      [resourceType, resourceId],
    );
    return rows.map((row) => row.plan_id);
  }

  async currentWithResource(resourceType: string, resourceId: string, options: { readonly deriver?: string } = {}): Promise<StoredPlan[]> {
    const statement = currentWithResourceStatement(VERSION_COLUMNS, resourceType, resourceId, options.deriver);
    const rows = await this.client.query<VersionRow>(statement.text, statement.params);
    return rows.map(toStored);
  }

  async keptWithResource(resourceType: string, resourceId: string, deriver: string): Promise<StoredVersionHead[]> {
    return this.kept.load({ resourceType, resourceId, deriver });
  }

  /** {@link keptWithResource} in a statement of its own. */
  private async keptAlone({ resourceType, resourceId, deriver }: KeptKey): Promise<StoredVersionHead[]> {
    const statement = currentWithResourceStatement(HEAD_COLUMNS, resourceType, resourceId, deriver);
    const rows = await this.client.query<HeadRow>(statement.text, statement.params);
    return rows.map(toHead);
  }

  /** Resolves when the entry is committed; entries written at the same time share one INSERT (audit-writer.ts). */
  async audit(entry: AuditEntry): Promise<void> {
    checkInstant('at', entry.at);
    await this.auditWriter.write(entry);
  }

  async auditLog(query: AuditQuery): Promise<RecordedAuditEntry[]> {
    const { params, where, param } = auditFilter(query);
    if (query.afterId !== undefined) {
      // Keyset paging: entries appended meanwhile do not shift the pages already handed out.
      where.push(`(a.at, a.id) < (SELECT c.at, c.id FROM audit_log c WHERE c.id = ${param(checkAuditId('afterId', query.afterId))}::bigint)`);
    }
    const limit = checkLimit('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT);
    const rows = await this.client.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log a
       ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY a.at DESC, a.id DESC LIMIT ${param(limit)}`,
      params,
    );
    return rows.map(toAuditEntry);
  }

  async auditCount(query: AuditQuery): Promise<number> {
    const { params, where } = auditFilter(query);
    const [row] = await this.client.query<{ total: number }>(`SELECT count(*)::integer AS total FROM audit_log a ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}`, params);
    return row?.total ?? 0;
  }

  async auditEntry(id: string, options: { readonly visibleTo?: string } = {}): Promise<RecordedAuditEntry | undefined> {
    if (!AUDIT_ID.test(id)) return undefined;
    const params: unknown[] = [id];
    const visible = options.visibleTo === undefined ? '' : ` AND ${visibleTo(`$${String(params.push(options.visibleTo))}`)}`;
    const [row] = await this.client.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log a WHERE a.id = $1::bigint${visible}`, params);
    return row === undefined ? undefined : toAuditEntry(row);
  }

  async close(): Promise<void> {
    await this.auditWriter.drained();
    await this.client.close();
  }
}
