/**
 * The durable outbox (issue #14, DESIGN.md §5, §6): one row per (plan, version, receiver), written in
 * the same transaction as the plan version (sql-plan-store.ts), and the SQL the delivery worker
 * (src/exchange/outbox-worker.ts) and the operators (HTTP, CLI) use on it.
 *
 * States: `pending` → `delivered` | `withheld` (consent said no at the moment of sending; final) |
 * `dead` (a dead letter, with its reason; an operator may put it back to `pending`, or give it up:
 * `skipped`, final, with who gave it up and why — see {@link SqlOutboxStore.skip}).
 *
 * **Claiming.** On PostgreSQL deliveries are claimed — up to a limit, one statement for several
 * (`deliverBatch`) — with `SELECT … FOR UPDATE SKIP LOCKED` inside a transaction that stays open for
 * the whole attempts (consent, connector, result) and commits their results, recorded in one statement. The row lock belongs to that transaction's connection: when the process dies — SIGKILL
 * included — the server ends the connection, rolls the transaction back and the lock is gone at once,
 * so another instance takes the row on its next poll. Nothing is ever "locked for hours".
 *
 * On PGlite the store is one process's own (one process owns the data folder) and a PGlite
 * transaction holds the whole instance until it ends, so an attempt cannot sit in one: the single
 * in-process worker claims rows by remembering their ids in memory while it delivers them. If the
 * process dies, the memory is gone with it and the row, still `pending`, is delivered on the next start.
 *
 * **Order.** A row is due only when no earlier version of the same plan to the same receiver is
 * `pending` (queued, retrying or being delivered by another instance) or `dead`: version n+1 never
 * overtakes n. A dead n holds n+1 back until an operator retries n (see outbox-worker.ts for why) or
 * skips it: a skipped n has ended, and n+1 goes.
 */
import { AUDIT_ROW_COLUMNS, auditRow } from './audit-writer.js';
import { FIELD_SEPARATOR, FIELD_SEPARATOR_SQL, packedLists, unpackTexts } from './kept-texts.js';
import { toStored, type VersionRow } from './plan-rows.js';
import type { AuditEntry, DerivedText, StoredPlan } from './plan-store.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';

export type DeliveryState = 'pending' | 'delivered' | 'withheld' | 'dead' | 'skipped';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'withheld', 'dead', 'skipped'];

/** One delivery of one plan version to one receiver, as operators see it. */
export interface Delivery {
  /** A positive whole number as text. */
  readonly id: string;
  readonly planId: string;
  readonly version: number;
  readonly receiverId: string;
  readonly state: DeliveryState;
  /** Attempts made since it was queued or last retried by an operator. */
  readonly attempts: number;
  /** When a pending delivery is due next (ISO 8601); absent: at once. */
  readonly nextAttemptAt?: string;
  /** The receiver's last HTTP status, when there was one. */
  readonly lastStatus?: number;
  /** The last answer or error in words (the withheld reason, the dead letter's reason …). */
  readonly lastError?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When it reached delivered, withheld or dead. */
  readonly endedAt?: string;
}

export interface DeliveryQuery {
  readonly state?: DeliveryState;
  readonly receiverId?: string;
  readonly planId?: string;
  /** Deliveries with a larger id than this (the next page). */
  readonly afterId?: string;
  /** At most this many (default 100, at most 1000), by id. */
  readonly limit?: number;
}

/**
 * How an attempt ended, as the worker records it; `audit`, when given, is the attempt's audit entry,
 * written in the same statement as the result (so in its transaction: both or neither).
 */
export type Settlement = (
  | { readonly kind: 'delivered'; readonly status?: number; readonly detail?: string }
  | { readonly kind: 'withheld'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly notBefore: Date }
  | { readonly kind: 'dead'; readonly reason: string; readonly status?: number }
) & { readonly audit?: AuditEntry };

/** A delivery claimed for one attempt, with the plan version it carries. */
export interface ClaimedDelivery {
  readonly delivery: Delivery;
  readonly stored: StoredPlan;
  /** The plan's current version (consent is judged on it at the moment of sending). */
  readonly current: StoredPlan;
}

/** What a claim brings besides the versions: what was derived from them under `deriver` (migration 6). */
export interface ClaimOptions {
  readonly deriver?: string;
  /**
   * Told how many rows a {@link OutboxStore.deliverBatch} claimed as soon as it knows (0 included),
   * before the attempts run: a worker gives back the slots the claim did not fill at once.
   */
  readonly onClaimed?: (count: number) => void;
}

/** An operator's retry refused: no such delivery, or not a dead letter. */
export class DeliveryNotRetryableError extends Error {
  override readonly name = 'DeliveryNotRetryableError';
  constructor(
    readonly id: string,
    readonly state: DeliveryState | undefined,
  ) {
    super(state === undefined ? `delivery ${id} does not exist` : `delivery ${id} is ${state}; only a dead letter can be retried`);
  }
}

/** An operator's skip refused: no such delivery, or not a dead letter. */
export class DeliveryNotSkippableError extends Error {
  override readonly name = 'DeliveryNotSkippableError';
  constructor(
    readonly id: string,
    readonly state: DeliveryState | undefined,
  ) {
    super(state === undefined ? `delivery ${id} does not exist` : `delivery ${id} is ${state}; only a dead letter can be skipped`);
  }
}

/** Who gives up a dead letter, and why (both kept on the row; the caller writes the audit entry). */
export interface SkipRequest {
  /** Why the version is given up, in the operator's words: 1–1000 characters once trimmed. */
  readonly reason: string;
  /** Who gives it up, e.g. the operator organisation's HSA-id and the user. */
  readonly by: string;
}

/** The most characters a skip's reason may have. */
export const MAX_SKIP_REASON = 1_000;

export interface OutboxStore {
  /**
   * Claims one due delivery (due at or before `at`, and no earlier version to the same receiver
   * pending or dead), runs `attempt` on it and records the settlement it returns — the claim held
   * for the whole attempt. Resolves false when nothing was due. When `attempt` throws, nothing is
   * recorded and the delivery stays pending (the error is passed on).
   */
  deliverNext(at: Date, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, options?: ClaimOptions): Promise<boolean>;
  /**
   * Claims up to `limit` due deliveries at once (each as {@link deliverNext} would: never two versions
   * of one plan to one receiver, never a row another claim holds), runs `attempt` on each of them at
   * the same time and records every settlement together — the claims held until all are recorded.
   * Resolves how many were claimed (0: nothing was due). An attempt that throws leaves its delivery
   * pending, the others are recorded, and the first such error is passed on after they are.
   */
  deliverBatch(at: Date, limit: number, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, options?: ClaimOptions): Promise<number>;
  /** Deliveries matching every criterion, by id. */
  list(query?: DeliveryQuery): Promise<Delivery[]>;
  /** One delivery; undefined when there is none (or the id is not a delivery id). */
  get(id: string): Promise<Delivery | undefined>;
  /** Puts a dead letter back to pending, due at once, attempts reset; {@link DeliveryNotRetryableError} otherwise. */
  retry(id: string): Promise<Delivery>;
  /**
   * Gives up a dead letter for good: `skipped` (final), so later versions to the same receiver may
   * go; {@link DeliveryNotSkippableError} for any other state. The reason and who are kept in
   * `lastError`, before the dead letter's own reason.
   */
  skip(id: string, request: SkipRequest): Promise<Delivery>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
const DELIVERY_ID = /^[1-9]\d{0,18}$/;
const RECEIVER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

interface DeliveryRow {
  id: string | number;
  plan_id: string;
  version: number;
  receiver_id: string;
  state: DeliveryState;
  attempts: number;
  not_before: Date | string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  ended_at: Date | string | null;
}

const DELIVERY_COLUMNS = 'o.id::text AS id, o.plan_id, o.version, o.receiver_id, o.state, o.attempts, o.not_before, o.last_status, o.last_error, o.created_at, o.updated_at, o.ended_at';

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: String(row.id),
    planId: row.plan_id,
    version: row.version,
    receiverId: row.receiver_id,
    state: row.state,
    attempts: row.attempts,
    ...(row.not_before === null ? {} : { nextAttemptAt: iso(row.not_before) }),
    ...(row.last_status === null ? {} : { lastStatus: row.last_status }),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    ...(row.ended_at === null ? {} : { endedAt: iso(row.ended_at) }),
  };
}

/** Checks the receiver ids to enqueue with a version: well-formed and each once. */
export function checkReceiverIds(receiverIds: readonly string[]): readonly string[] {
  const bad = receiverIds.find((id) => !RECEIVER_ID.test(id));
  if (bad !== undefined) throw new RangeError(`a receiver id must be 1–128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit, not "${bad}"`);
  if (new Set(receiverIds).size !== receiverIds.length) throw new RangeError(`receiver ids must be distinct: ${receiverIds.join(', ')}`);
  return receiverIds;
}

/**
 * The channel a write of outbox rows notifies, in the same statement: PostgreSQL sends the
 * notification when the transaction commits (and never if it rolls back), and every instance's worker
 * listening on it wakes at once instead of at its next poll (outbox-worker.ts).
 */
export const OUTBOX_CHANNEL = 'sip_outbox';

/** Queues a version for its receivers; called inside the transaction that writes the version. */
export async function enqueueDeliveries(tx: SqlQueryable, planId: string, version: number, receiverIds: readonly string[]): Promise<void> {
  if (receiverIds.length === 0) return;
  await tx.query(
    `WITH queued AS (INSERT INTO outbox (plan_id, version, receiver_id) SELECT $1, $2, receiver_id FROM unnest($3::text[]) AS r (receiver_id) RETURNING id)
     SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM queued LIMIT 1`,
    [planId, version, receiverIds],
  );
}

/**
 * A pending row is due: its time has come, and nothing earlier to the same receiver is pending or dead.
 *
 * The earlier-version check is a scalar subquery with `LIMIT 1`, not `NOT EXISTS`, on purpose: PostgreSQL
 * never turns a scalar subquery into a join, so it is always a probe of the outbox's unique
 * (plan_id, receiver_id, version) index for the row at hand. As `NOT EXISTS` it became an anti join
 * whose inner side the planner was free to choose, and on a table without statistics (never analysed,
 * or analysed when nothing was pending) it chose to scan every pending and dead row for every pending
 * row: a claim cost grew with the square of the backlog — 6,600 buffer reads and ≈ 50 ms of
 * PostgreSQL CPU for one claim with 200 pending (docs/performance.md, "The claim's plan").
 */
const DUE = `o.state = 'pending' AND (o.not_before IS NULL OR o.not_before <= $1::timestamptz)
  AND (SELECT true FROM outbox e WHERE e.plan_id = o.plan_id AND e.receiver_id = o.receiver_id AND e.version < o.version AND e.state IN ('pending', 'dead') LIMIT 1) IS NULL`;

/**
 * The claim on PostgreSQL: the first $2 due rows, by id, not locked by another transaction. Two
 * versions of one plan to one receiver are never among them: the later is not due while the earlier
 * is pending (`DUE`), and the statement sees one snapshot.
 */
export const CLAIM_DUE = `SELECT ${DELIVERY_COLUMNS} FROM outbox o WHERE ${DUE} ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED`;

/** Most deliveries one claim takes (the worker asks for its concurrency, at most 8; see outbox-worker.ts). */
export const MAX_CLAIM = 64;

/**
 * The planner settings of a claim's transaction. With a sort allowed, a plan made while the outbox
 * looked small — a prepared statement's generic plan, kept for the connection's life, or any plan on
 * statistics taken when nothing was pending — reads and filters *every* pending row and sorts them
 * to find the first; the claim must walk the pending rows in id order (the `outbox_pending` index)
 * and stop at the first it can lock. Nothing else in a claim's transaction sorts.
 */
export const CLAIM_SETTINGS: Readonly<Record<string, string>> = { enable_sort: 'off' };

/**
 * What was kept with a version when it was written (migration 6) under the deriver (`deriver`, a
 * parameter; null for none): the send basis, and — for the version to deliver only (`version`) — its
 * resource texts, as one text ({@link KEPT_TEXTS}): each text's type, id, head and tail joined by
 * U+001F, the texts by U+001E. Not `json_agg(json_build_array(…))`, which had the backend escape the
 * ≈ 60 kB of JSON text of a version into a JSON array and pg parse it back (docs/performance.md, "The
 * exchange, fourth round"). Those are the texts kept as rows; a version derived since migration 12
 * packs all but its CarePlan's on the derived row (src/store/kept-texts.ts), which come as the packed
 * columns, their bytes decoded to text by the backend (for the version to deliver only, too).
 */
const derivedColumns = (version: string, deriver: string): string => `, d.basis,
  CASE WHEN v.version = ${version} THEN (SELECT string_agg(t.resource_type || ${FIELD_SEPARATOR_SQL} || t.resource_id || ${FIELD_SEPARATOR_SQL} || t.head || ${FIELD_SEPARATOR_SQL} || t.tail, chr(30)) FROM plan_version_texts t
    WHERE t.plan_id = v.plan_id AND t.version = v.version AND t.deriver = ${deriver}) END AS texts,
  ${packedLists(`v.version = ${version}`)}`;
const derivedJoin = (deriver: string): string => `LEFT JOIN plan_version_derived d ON d.plan_id = v.plan_id AND d.version = v.version AND d.deriver = ${deriver}`;
const VERSION_COLUMNS = 'v.plan_id, v.version, v.plan, v.document, v.model, v.recorded_at, v.recorded_by';
/** The version to deliver ($1, $2) with what was derived under $3. */
const VERSION_OF = `SELECT ${VERSION_COLUMNS}${derivedColumns('$2', '$3')} FROM plan_versions v ${derivedJoin('$3')} WHERE v.plan_id = $1 AND v.version = $2`;
/**
 * For each claimed row — plan $1[i], receiver $2[i], version $3[i] — the plan's current version with
 * what was derived under $4, and (`held`) whether a version before the claimed one to the same receiver
 * is pending or dead now; `ord` is the row's place (from 1). Read in a statement of its own after the
 * claim, so it sees what was committed since the claim's snapshot (an operator's retry of an earlier
 * version). One round trip for every row claimed together. The version is read in a `LATERAL`
 * subquery with `LIMIT 1` (never flattened into a join): a probe of the primary keys per row, whatever
 * the planner thinks of the tables' sizes.
 */
const CURRENT_OF = `SELECT c.ord, cur.*,
  EXISTS (SELECT 1 FROM outbox e WHERE e.plan_id = c.plan_id AND e.receiver_id = c.receiver_id AND e.version < c.version AND e.state IN ('pending', 'dead')) AS held
  FROM unnest($1::text[], $2::text[], $3::integer[]) WITH ORDINALITY AS c (plan_id, receiver_id, version, ord)
  CROSS JOIN LATERAL (SELECT ${VERSION_COLUMNS}${derivedColumns('c.version', '$4')}
    FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version ${derivedJoin('$4')} WHERE p.plan_id = c.plan_id LIMIT 1) cur`;

/**
 * The claim on PostgreSQL and what {@link CURRENT_OF} read after it, in one statement (one round trip
 * of a batch's five fewer: docs/performance.md, "The exchange, sixth round"): the rows {@link CLAIM_DUE}
 * locks — that very statement, materialized, so its plan is the claim's own (the `outbox_pending` walk in
 * id order, test/store/outbox-claim-plan.test.ts) — each with the plan's current version and what was
 * derived from it under $3, the kept texts only when the current version is the claimed one. A row
 * whose plan the store does not hold comes with a null `current_version` (the `LEFT JOIN`), so the
 * claim fails as {@link readClaimed} made it fail, rather than leaving the row out.
 *
 * There is no `held` column: {@link CURRENT_OF} asks it in a later statement, whose snapshot may have
 * seen more commits than the claim's; here the version is read in the claim's own snapshot, in which
 * `DUE` has just found no earlier version to the receiver pending or dead — the same question, the same
 * snapshot, the same answer. In-order delivery rests on `DUE` and the row locks, as before. (Nor could
 * a later snapshot answer otherwise: a row becomes pending or dead only from pending or dead — a
 * settlement, an operator's retry of a dead letter — never again once delivered, withheld or skipped,
 * and the outbox rows of version n are committed with n, before version n + 1 can be written.)
 */
export const CLAIM_AND_READ = `WITH c AS MATERIALIZED (${CLAIM_DUE})
  SELECT c.*, cur.version AS current_version, cur.plan, cur.document, cur.model, cur.recorded_at, cur.recorded_by, cur.basis, cur.texts,
    cur.text_types, cur.text_ids, cur.text_units, cur.packed_texts
  FROM c LEFT JOIN LATERAL (SELECT ${VERSION_COLUMNS}${derivedColumns('c.version', '$3')}
    FROM plans p JOIN plan_versions v ON v.plan_id = p.plan_id AND v.version = p.version ${derivedJoin('$3')} WHERE p.plan_id = c.plan_id LIMIT 1) cur ON true`;

/** A row of {@link CLAIM_AND_READ}: the claimed delivery, and its plan's current version (null: no such plan). */
type ClaimedWithCurrent = DeliveryRow & Omit<ClaimedRow, 'plan_id' | 'version' | 'held' | 'ord'> & { current_version: number | null };

interface ClaimedRow extends VersionRow {
  basis: string | null;
  /** The kept texts as {@link derivedColumns} joins them (null when none was kept). */
  texts: string | null;
  /** The packed texts of a version derived since migration 12, as kept-texts.ts `packedLists` reads them, for the version to deliver; null otherwise. */
  text_types: string | null;
  text_ids: string | null;
  text_units: string | null;
  packed_texts: string | null;
  held?: boolean;
  ord?: string | number;
}

/** Between the fields of a kept text in the claim's aggregate (kept-texts.ts), and between texts (see {@link derivedColumns}). */
const FIELD = FIELD_SEPARATOR;
const RECORD = '\u001e';

/**
 * The kept texts from the claim's aggregate. The separators cannot occur inside a field: a text is
 * JSON text written by `JSON.stringify` (src/http/derived-view.ts), which escapes every character
 * below U+0020, and a resource type or id holds none. Should one still not split into four fields,
 * no text is used — the connector then maps the plan in full, which writes the same Bundle
 * (src/exchange/transaction-bundle.ts) — rather than a text cut in the wrong place.
 */
export function keptTexts(joined: string | null): DerivedText[] {
  if (joined === null || joined === '') return [];
  // The separators found with indexOf and each field sliced out once, not `split` into records and
  // each record split again: on the ≈ 55,000 characters of a version's texts (a two-byte string once
  // one holds a dash), the two splits took ≈ 80–230 µs a delivery and this ≈ 10 (docs/performance.md,
  // "The exchange, sixth round"). The same texts as the splits, or none where they found no four
  // fields in a record (test/store/outbox-texts.test.ts).
  const texts: DerivedText[] = [];
  for (let from = 0; ; ) {
    const next = joined.indexOf(RECORD, from);
    const end = next < 0 ? joined.length : next;
    const first = joined.indexOf(FIELD, from);
    const second = first < 0 || first >= end ? -1 : joined.indexOf(FIELD, first + 1);
    const third = second < 0 || second >= end ? -1 : joined.indexOf(FIELD, second + 1);
    if (third < 0 || third >= end) return [];
    const fourth = joined.indexOf(FIELD, third + 1);
    if (fourth >= 0 && fourth < end) return [];
    texts.push({ resourceType: joined.slice(from, first), id: joined.slice(first + 1, second), head: joined.slice(second + 1, third), tail: joined.slice(third + 1, end) });
    if (next < 0) return texts;
    from = next + 1;
  }
}

/** A stored version with what was derived from it under the deriver asked for. */
function claimedVersion(row: ClaimedRow): StoredPlan {
  const { basis, texts, text_types: types, text_ids: ids, text_units: units, packed_texts: packed, held: _held, ord: _ord, ...version } = row;
  const stored = toStored(version);
  if (basis === null) return stored;
  return { ...stored, derived: { basis, texts: [...keptTexts(texts), ...unpackTexts(types, ids, units, packed)] } };
}

/**
 * For each claimed row, the version to deliver and the plan's current version, with what was derived
 * from them under `deriver`; undefined for a row an earlier version to the same receiver holds back.
 * Most often the two are the same (a version is delivered before the next is written): then the row
 * is read and parsed once, not twice — the plan's JSON is most of what a claim costs PostgreSQL and pg.
 */
async function readClaimed(sql: SqlQueryable, rows: readonly DeliveryRow[], deriver: string | undefined): Promise<(ClaimedDelivery | undefined)[]> {
  const currents = await sql.query<ClaimedRow>(CURRENT_OF, [rows.map((row) => row.plan_id), rows.map((row) => row.receiver_id), rows.map((row) => row.version), deriver ?? null]);
  const byPlace = new Map(currents.map((current) => [Number(current.ord), current]));
  const claimed: (ClaimedDelivery | undefined)[] = [];
  // One after the other: the statements share the claim's connection.
  for (const [index, row] of rows.entries()) {
    const current = byPlace.get(index + 1);
    if (current?.held === true) {
      claimed.push(undefined);
      continue;
    }
    const [version] = current !== undefined && current.version === row.version ? [current] : await sql.query<ClaimedRow>(VERSION_OF, [row.plan_id, row.version, deriver ?? null]);
    if (version === undefined || current === undefined) throw new Error(`delivery ${String(row.id)} names plan "${row.plan_id}" version ${String(row.version)}, which the store does not hold`);
    const stored = claimedVersion(version);
    claimed.push({ delivery: toDelivery(row), stored, current: version === current ? stored : claimedVersion(current) });
  }
  return claimed;
}

/**
 * The claimed deliveries of {@link CLAIM_AND_READ}'s rows, in id order, each with the version to deliver
 * and the plan's current version — what {@link readClaimed} makes of a claim's rows, but for the
 * current versions already read: the version to deliver is read apart only when it is not the current
 * one (a later version was written before this one was delivered).
 */
async function claimedOf(sql: SqlQueryable, rows: readonly ClaimedWithCurrent[], deriver: string | undefined): Promise<ClaimedDelivery[]> {
  const claimed: ClaimedDelivery[] = [];
  const byId = [...rows].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  // One after the other: the statements share the claim's connection.
  for (const row of byId) {
    const { current_version: currentVersion, plan, document, model, recorded_at: recordedAt, recorded_by: recordedBy, basis, texts } = row;
    if (currentVersion === null) throw new Error(`delivery ${String(row.id)} names plan "${row.plan_id}" version ${String(row.version)}, which the store does not hold`);
    const packed = { text_types: row.text_types, text_ids: row.text_ids, text_units: row.text_units, packed_texts: row.packed_texts };
    const current: ClaimedRow = { plan_id: row.plan_id, version: currentVersion, plan, document, model, recorded_at: recordedAt, recorded_by: recordedBy, basis, texts, ...packed };
    const [version] = currentVersion === row.version ? [current] : await sql.query<ClaimedRow>(VERSION_OF, [row.plan_id, row.version, deriver ?? null]);
    if (version === undefined) throw new Error(`delivery ${String(row.id)} names plan "${row.plan_id}" version ${String(row.version)}, which the store does not hold`);
    const stored = claimedVersion(version);
    claimed.push({ delivery: toDelivery(row), stored, current: version === current ? stored : claimedVersion(current) });
  }
  return claimed;
}

/**
 * A settlement as the columns it writes: the state it leaves (a retry stays pending), whether it
 * counts as an attempt (a withheld delivery sent nothing), when the next attempt may be (retry only),
 * and the status and text kept (`detail` of a delivery, else the reason).
 */
export function settlementColumns(settlement: Settlement): { readonly state: DeliveryState; readonly attempted: boolean; readonly notBefore: string | null; readonly status: number | null; readonly error: string | null } {
  switch (settlement.kind) {
    case 'delivered':
      return { state: 'delivered', attempted: true, notBefore: null, status: settlement.status ?? null, error: settlement.detail ?? null };
    case 'withheld':
      // Nothing went on the wire: not an attempt.
      return { state: 'withheld', attempted: false, notBefore: null, status: null, error: settlement.reason };
    case 'retry':
      return { state: 'pending', attempted: true, notBefore: settlement.notBefore.toISOString(), status: settlement.status ?? null, error: settlement.reason };
    case 'dead':
      return { state: 'dead', attempted: true, notBefore: null, status: settlement.status ?? null, error: settlement.reason };
  }
}

/**
 * Records the settlements of rows $1 (one per row, as arrays: the statement is one text whatever the
 * count) and the audit entries of those that carry one ($6…, with the row's id last), in one
 * statement: `WITH settled AS (UPDATE …) INSERT … SELECT … FROM settled`, so an entry is written only
 * with its row's result and a result never without its entry (a refused entry fails the statement,
 * and the claim's transaction with it: every row stays pending). A row that ends (delivered, withheld,
 * dead) gets `ended_at`; a retry stays pending with its `not_before`.
 */
const SETTLE_MANY = `WITH s AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::timestamptz[], $5::integer[], $6::text[]) AS s (id, state, attempted, not_before, status, error)),
  settled AS (UPDATE outbox o SET state = s.state, attempts = o.attempts + CASE WHEN s.attempted THEN 1 ELSE 0 END, not_before = s.not_before,
      last_status = s.status, last_error = s.error, updated_at = now(), ended_at = CASE WHEN s.state = 'pending' THEN NULL ELSE now() END
    FROM s WHERE o.id = s.id RETURNING o.id)
  INSERT INTO audit_log (${AUDIT_ROW_COLUMNS.map((column) => column.name).join(', ')})
  SELECT ${AUDIT_ROW_COLUMNS.map((column) => `a.${column.name}`).join(', ')}
  FROM unnest(${AUDIT_ROW_COLUMNS.map((column, index) => `$${String(index + 7)}::${column.type}[]`).join(', ')}, $${String(AUDIT_ROW_COLUMNS.length + 7)}::bigint[])
    AS a (${AUDIT_ROW_COLUMNS.map((column) => column.name).join(', ')}, delivery_id)
  JOIN settled ON settled.id = a.delivery_id`;

/** Records settlements (row id, how it ended), with their audit entries: see {@link SETTLE_MANY}. */
async function settle(sql: SqlQueryable, settlements: readonly (readonly [string, Settlement])[]): Promise<void> {
  if (settlements.length === 0) return;
  const columns = settlements.map(([, settlement]) => settlementColumns(settlement));
  const audited = settlements.flatMap(([id, settlement]) => (settlement.audit === undefined ? [] : [[...auditRow(settlement.audit), id]]));
  await sql.query(SETTLE_MANY, [
    settlements.map(([id]) => id),
    columns.map((column) => column.state),
    columns.map((column) => column.attempted),
    columns.map((column) => column.notBefore),
    columns.map((column) => column.status),
    columns.map((column) => column.error),
    ...Array.from({ length: AUDIT_ROW_COLUMNS.length + 1 }, (_column, index) => audited.map((row) => row[index] ?? null)),
  ]);
}

/**
 * Runs the attempts of claimed rows at once and records their settlements together; resolves the
 * first error an attempt threw (its row is left pending), if any, for the caller to pass on once the
 * others are recorded.
 */
async function attemptAll(
  sql: SqlQueryable,
  claimed: readonly (ClaimedDelivery | undefined)[],
  attempt: (claimed: ClaimedDelivery) => Promise<Settlement>,
): Promise<{ readonly error: unknown } | undefined> {
  const outcomes = await Promise.allSettled(claimed.flatMap((claim) => (claim === undefined ? [] : [attempt(claim).then((settlement) => [claim.delivery.id, settlement] as const)])));
  await settle(sql, outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])));
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  return failed === undefined ? undefined : { error: failed.reason };
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CLAIM) throw new RangeError(`a claim takes 1 to ${String(MAX_CLAIM)} deliveries, not ${String(limit)}`);
  return limit;
}

/** What a claim did: how many rows it took, and the first error an attempt threw. */
interface Batch {
  readonly claimed: number;
  readonly failed?: { readonly error: unknown };
}

export class SqlOutboxStore implements OutboxStore {
  /** A settlement's audit entry is written with it (see {@link settle}); the worker hands it over instead of writing it. */
  readonly recordsAudit = true;
  /** PGlite only: the ids this process is delivering now (see the module comment). */
  private readonly inFlight = new Set<string>();
  /**
   * PGlite only: the claim under way. Claims run one after the other, so that each reads the due rows
   * after the one before marked its row in {@link inFlight}; read at once, the worker's slots would
   * all be handed the same row and send it once each.
   */
  private claiming: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: SqlClient) {}

  /**
   * Calls `wake` when outbox rows are written or put back to pending, by this or any other instance
   * (PostgreSQL's LISTEN on {@link OUTBOX_CHANNEL}); resolves to the function that stops it. On PGlite
   * (one process, whose own writes wake its worker directly) nothing: undefined.
   */
  async onQueued(wake: () => void): Promise<(() => Promise<void>) | undefined> {
    return this.client.driver === 'pg' && this.client.listen !== undefined ? this.client.listen(OUTBOX_CHANNEL, wake) : undefined;
  }

  async deliverNext(at: Date, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, options: ClaimOptions = {}): Promise<boolean> {
    return (await this.deliverBatch(at, 1, attempt, options)) > 0;
  }

  async deliverBatch(at: Date, limit: number, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, options: ClaimOptions = {}): Promise<number> {
    checkLimit(limit);
    const { claimed, failed } = this.client.driver === 'pg' ? await this.deliverLocked(at, limit, attempt, options) : await this.deliverInProcess(at, limit, attempt, options);
    if (failed !== undefined) throw failed.error;
    return claimed;
  }

  private async deliverLocked(at: Date, limit: number, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, { deriver, onClaimed }: ClaimOptions): Promise<Batch> {
    return this.client.transaction(async (tx) => {
      // The claim and the claimed rows' current versions in one round trip (CLAIM_AND_READ).
      const rows = await tx.query<ClaimedWithCurrent>(CLAIM_AND_READ, [at.toISOString(), limit, deriver ?? null]);
      onClaimed?.(rows.length);
      if (rows.length === 0) return { claimed: 0 };
      const failed = await attemptAll(tx, await claimedOf(tx, rows, deriver), attempt);
      return failed === undefined ? { claimed: rows.length } : { claimed: rows.length, failed };
    }, { settings: CLAIM_SETTINGS });
  }

  private async deliverInProcess(at: Date, limit: number, attempt: (claimed: ClaimedDelivery) => Promise<Settlement>, { deriver, onClaimed }: ClaimOptions): Promise<Batch> {
    const claim = this.claiming.then(async () => {
      const due = await this.client.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM outbox o WHERE ${DUE} AND o.id <> ALL($3::bigint[]) ORDER BY o.id LIMIT $2`, [
        at.toISOString(),
        limit,
        [...this.inFlight],
      ]);
      for (const row of due) this.inFlight.add(String(row.id));
      return due;
    });
    this.claiming = claim.catch(() => undefined);
    const rows = await claim;
    onClaimed?.(rows.length);
    if (rows.length === 0) return { claimed: 0 };
    try {
      // Held back only by an earlier version an operator retried since the claim read the due rows.
      const failed = await attemptAll(this.client, await readClaimed(this.client, rows, deriver), attempt);
      return failed === undefined ? { claimed: rows.length } : { claimed: rows.length, failed };
    } finally {
      for (const row of rows) this.inFlight.delete(String(row.id));
    }
  }

  async list(query: DeliveryQuery = {}): Promise<Delivery[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (value: unknown): string => `$${String(params.push(value))}`;
    if (query.state !== undefined) {
      if (!DELIVERY_STATES.includes(query.state)) throw new RangeError(`state must be one of ${DELIVERY_STATES.join(', ')}, not "${query.state as string}"`);
      where.push(`o.state = ${param(query.state)}`);
    }
    if (query.receiverId !== undefined) where.push(`o.receiver_id = ${param(query.receiverId)}`);
    if (query.planId !== undefined) where.push(`o.plan_id = ${param(query.planId)}`);
    if (query.afterId !== undefined) {
      if (!DELIVERY_ID.test(query.afterId)) throw new RangeError(`afterId must be a delivery id (a positive whole number), not "${query.afterId}"`);
      where.push(`o.id > ${param(query.afterId)}::bigint`);
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) throw new RangeError(`limit must be an integer from 0 to ${String(MAX_LIMIT)}, not ${String(query.limit)}`);
    const rows = await this.client.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM outbox o ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY o.id LIMIT ${param(limit)}`,
      params,
    );
    return rows.map(toDelivery);
  }

  async get(id: string): Promise<Delivery | undefined> {
    if (!DELIVERY_ID.test(id)) return undefined;
    const [row] = await this.client.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM outbox o WHERE o.id = $1::bigint`, [id]);
    return row === undefined ? undefined : toDelivery(row);
  }

  async retry(id: string): Promise<Delivery> {
    if (!DELIVERY_ID.test(id)) throw new DeliveryNotRetryableError(id, undefined);
    // Only a dead letter, in one statement: a row a worker holds is pending and not touched; the
    // row lock makes a concurrent retry of the same dead letter wait and then find it pending.
    const [row] = await this.client.query<DeliveryRow>(
      `UPDATE outbox o SET state = 'pending', attempts = 0, not_before = NULL, updated_at = now(), ended_at = NULL
       WHERE o.id = $1::bigint AND o.state = 'dead' RETURNING ${DELIVERY_COLUMNS}`,
      [id],
    );
    if (row !== undefined) {
      await this.client.query(`NOTIFY ${OUTBOX_CHANNEL}`);
      return toDelivery(row);
    }
    throw new DeliveryNotRetryableError(id, (await this.get(id))?.state);
  }

  /**
   * An operator gives up a dead letter (issue #14): the receiver never gets this version, and the
   * next version to it is no longer held back (the `DUE` condition looks only for earlier `pending` or
   * `dead` rows). Only a dead letter, in one statement: a pending row, which a worker may hold, is
   * never touched, and two skips (or a skip and a retry) of the same row cannot both succeed — the
   * second waits for the first's row lock and then finds it no longer dead.
   */
  async skip(id: string, request: SkipRequest): Promise<Delivery> {
    const reason = request.reason.trim();
    if (reason.length === 0 || reason.length > MAX_SKIP_REASON) throw new RangeError(`a skip's reason must be 1–${String(MAX_SKIP_REASON)} characters, not ${String(reason.length)}`);
    if (request.by.trim().length === 0) throw new RangeError('a skip must say who gives the delivery up');
    if (!DELIVERY_ID.test(id)) throw new DeliveryNotSkippableError(id, undefined);
    const [row] = await this.client.query<DeliveryRow>(
      `UPDATE outbox o SET state = 'skipped', not_before = NULL, updated_at = now(), ended_at = now(),
         last_error = 'skipped by ' || $2::text || ': ' || $3::text || coalesce('; the dead letter: ' || o.last_error, '')
       WHERE o.id = $1::bigint AND o.state = 'dead' RETURNING ${DELIVERY_COLUMNS}`,
      [id, request.by.trim(), reason],
    );
    if (row !== undefined) {
      // The next version to the receiver is due now.
      await this.client.query(`NOTIFY ${OUTBOX_CHANNEL}`);
      return toDelivery(row);
    }
    throw new DeliveryNotSkippableError(id, (await this.get(id))?.state);
  }
}
