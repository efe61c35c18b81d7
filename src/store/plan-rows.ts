/** A stored plan version as its row holds it, and as the store hands it out (shared by the plan store and the outbox). */
import { parsePlan, planModelVersion, PLAN_STATUSES, TRAFFIC_LIGHTS, type PlanStatus, type SipPlan, type TrafficLight } from '../sip/index.js';
import { UnreadablePlanError, type DerivedText, type PlanStanding, type StoredDerivation, type StoredPlan, type StoredVersionHead } from './plan-store.js';

export interface VersionRow {
  plan_id: string;
  version: number;
  /** The version as written before migration 4 (jsonb), else null. */
  plan: unknown;
  /**
   * The version as the SIP model wrote it (json), else null: as its JSON text when the statement
   * cast it (sql-plan-store.ts, parsed only when the plan is first read), else as the driver parsed it.
   */
  document: unknown;
  /** The model that wrote `document` (src/sip/model-version.ts). */
  model: string | null;
  recorded_at: Date | string;
  recorded_by: string;
  /** With a derived request (migration 6): the basis kept under the deriver asked for, else null. */
  basis?: string | null;
  /** And the judging summary kept beside it (migration 8), else null. */
  summary?: string | null;
  /** And the version's traffic light and status (migration 11), else null. */
  traffic_light?: string | null;
  plan_status?: string | null;
  /** And the text of the resource asked for, when it was derived (both null otherwise). */
  text_type?: string | null;
  text_id?: string | null;
  head?: string | null;
  tail?: string | null;
}

/**
 * A version's columns. The document comes as its text (`json` is kept as text, so the cast is free) and
 * is parsed only when its plan is first read ({@link toStored}): a read that judges from the kept summary
 * and answers a kept text never parses it.
 */
export const VERSION_COLUMNS = 'v.plan_id, v.version, v.plan, v.document::text AS document, v.model, v.recorded_at, v.recorded_by';
/** A version's columns but its plan (`keptWithResource`, `searchHeads`): what {@link toHead} reads. */
export const HEAD_COLUMNS = 'v.plan_id, v.version, v.recorded_at, v.recorded_by';
/**
 * What was derived from a version (`d`, plan_version_derived) for a read that answers the plan (the SIP
 * API): the send basis, the judging summary and the traffic light and status, so such a read judges and
 * answers without parsing the plan document (src/http/sip-routes.ts).
 */
export const BASIS_COLUMNS = 'd.basis, d.summary, d.traffic_light, d.plan_status';
/** What was derived from a version (`d`, plan_version_derived) and one kept text (`t`, plan_version_texts), as {@link VersionRow} names them. */
export const DERIVED_TEXT_COLUMNS = 'd.basis, d.summary, t.resource_type AS text_type, t.resource_id AS text_id, t.head, t.tail';
/** A FHIR resource type's name, as the store's tables hold one. */
export const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

/**
 * A version's row without its plan (`keptWithResource`, `searchHeads`): the version's columns but
 * `plan`, `document` and `model`; a search's also the plan's recorded status.
 */
export type HeadRow = Omit<VersionRow, 'plan' | 'document' | 'model'> & { status?: string };

/** The stored version without its plan, as {@link toStored} would give its other members. */
export function toHead(row: HeadRow): StoredVersionHead {
  const derived = derivationOf(row);
  const fields = { planId: row.plan_id, version: row.version, recordedAt: isoInstant(row.recorded_at), recordedBy: row.recorded_by, ...(row.status === undefined ? {} : { status: planStatusOf(row.status) }) };
  return derived === undefined ? fields : { ...fields, derived };
}

/** A `plan_version_derived.traffic_light` value: the column's CHECK allows only these. */
function trafficLightOf(value: string): TrafficLight {
  const light = TRAFFIC_LIGHTS.find((candidate) => candidate === value);
  if (light !== undefined) return light;
  throw new Error(`plan_version_derived.traffic_light holds ${JSON.stringify(value)}, which is no traffic light`);
}

/** The kept traffic light and status of a row that brought them (both or neither: the table's CHECK). */
function standingOf(row: HeadRow): PlanStanding | undefined {
  if (typeof row.traffic_light !== 'string' || typeof row.plan_status !== 'string') return undefined;
  return { trafficLight: trafficLightOf(row.traffic_light), status: planStatusOf(row.plan_status) };
}

/** A `plans.status` (or `plan_version_derived.plan_status`) value: the columns' CHECK allows only these. */
function planStatusOf(value: string): PlanStatus {
  const status = PLAN_STATUSES.find((candidate) => candidate === value);
  if (status !== undefined) return status;
  throw new Error(`a plan status column holds ${JSON.stringify(value)}, which is no plan status`);
}

export function isoInstant(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** The row's document as parsed JSON (the parsed-JSON boundary), whether the driver brought it as text or parsed. */
export function documentOf(row: VersionRow): unknown {
  return typeof row.document === 'string' ? (JSON.parse(row.document) as unknown) : row.document;
}

/**
 * Where a stored version whose `plan` is `JSON.parse` of its row's text keeps that text
 * ({@link documentTextOf}): on the object, under a symbol (not enumerable, so a copy or
 * `JSON.stringify` does not carry it). Not in a module-level `WeakMap`, whose values V8's scavenger
 * promotes to the old space when their key was alive at one scavenge: every read's document text
 * (≈ 7 kB) would be old-space garbage (src/sip/plan-index.ts `INDEX` says how).
 */
const DOCUMENT_TEXT: unique symbol = Symbol('documentText');

interface WithText {
  [DOCUMENT_TEXT]?: string;
}

/**
 * The JSON text the stored version's `plan` is read from, when `JSON.stringify(stored.plan)` is that very
 * text: a version the running model wrote, read from its row. Such a document was written as
 * `JSON.stringify` of the plan the model parsed (sql-plan-store.ts `insertVersion`; the `json` column
 * keeps the text as given, and rows are never changed), and `plan` is `JSON.parse` of it, which
 * `JSON.stringify` writes back as it was. An answer that carries the plan whole may splice this text in
 * instead of serialising the plan again. Undefined for any other version (parsed anew by another model,
 * or not read from a row), and for a copy of this object.
 */
export function documentTextOf(stored: StoredPlan): string | undefined {
  return (stored as WithText)[DOCUMENT_TEXT];
}

/**
 * Where a stored version keeps what its `plan` is read from: its row, and the plan once read. On the
 * object, under a symbol (not enumerable, so a copy or `JSON.stringify` does not carry it).
 */
const PLAN_SOURCE: unique symbol = Symbol('planSource');

interface PlanSource {
  readonly row: VersionRow;
  plan: SipPlan | undefined;
}

interface WithPlanSource {
  readonly [PLAN_SOURCE]: PlanSource;
}

/**
 * The `plan` getter of every stored version: one function, not a closure made for each version. V8
 * keeps an accessor's functions in the object's hidden class (its map), so a getter made per object
 * gave every stored version a map of its own, or a dictionary (`%HaveSameMap`, `%HasFastProperties`).
 * Maps live in the old space, and the scavenger cannot tell a garbage one: what it pointed at, the
 * getter, its closure and so the row and the parsed plan with everything hung on it (its index, its
 * digests), was kept and promoted. A SIP read or search thus promoted ≈ 20–45 kB a request, and
 * scavenges paused 8–10 ms instead of 1–2 (docs/performance.md, "An accessor made per object"). With
 * one getter the versions share their maps and keep fast properties.
 */
function planOfSource(this: WithPlanSource): SipPlan {
  const source = this[PLAN_SOURCE];
  source.plan ??= documentOf(source.row) as SipPlan;
  return source.plan;
}

/**
 * The stored version as a plan. One the model running now wrote is the plan as that model parsed it
 * (it was parsed before it was stored, and rows are immutable), so it is not parsed again: that was a
 * fifth of a read's CPU. Any other is parsed, and one that no longer parses is an UnreadablePlanError.
 *
 * `plan` is computed when first read, then kept on the object: a read that judges from the kept
 * summary and answers a kept text (src/http/derived-view.ts) never reads it, and so never runs
 * `JSON.parse` over the document (≈ 6.8 kB for the bench's plan). A document that no longer parses
 * throws then, from the property, rather than from the store's call; a version whose model differs
 * from the running one is parsed at once, so an unreadable old version still throws from the store.
 */
export function toStored(row: VersionRow): StoredPlan {
  const current = row.document !== null && row.model === planModelVersion();
  const source: PlanSource = { row, plan: current ? undefined : parsedRow(row) };
  const fields = { version: row.version, recordedAt: isoInstant(row.recorded_at), recordedBy: row.recorded_by };
  const derived = derivationOf(row);
  const stored = {} as StoredPlan;
  Object.defineProperty(stored, 'plan', { enumerable: true, get: planOfSource });
  Object.defineProperty(stored, PLAN_SOURCE, { value: source });
  if (current && typeof row.document === 'string') Object.defineProperty(stored, DOCUMENT_TEXT, { value: row.document });
  return Object.assign(stored, fields, derived === undefined ? {} : { derived });
}

function derivationOf(row: HeadRow): StoredDerivation | undefined {
  if (row.basis === undefined || row.basis === null) return undefined;
  const texts: DerivedText[] =
    row.text_type === undefined || row.text_type === null || row.text_id === undefined || row.text_id === null || typeof row.head !== 'string' || typeof row.tail !== 'string'
      ? []
      : [{ resourceType: row.text_type, id: row.text_id, head: row.head, tail: row.tail }];
  const standing = standingOf(row);
  return {
    basis: row.basis,
    ...(typeof row.summary === 'string' ? { summary: row.summary } : {}),
    ...(standing === undefined ? {} : { standing }),
    texts,
  };
}

function parsedRow(row: VersionRow): SipPlan {
  const result = parsePlan(documentOf(row) ?? row.plan);
  if (!result.ok) throw new UnreadablePlanError(row.plan_id, row.version, result.problems);
  return result.plan;
}
