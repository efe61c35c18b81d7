/**
 * The store's contract (DESIGN.md §6): plans as immutable versions, an append-only audit log, and the
 * searches the service needs. One SQL dialect, PostgreSQL, behind two drivers: PGlite embedded in the
 * process (the default, persisted under the data folder) and a real PostgreSQL through `pg`
 * (`DATABASE_URL`). The HTTP layer and the exchange depend on this interface only.
 *
 * The store keeps plans as the SIP model has them (validated `SipPlan` JSON); FHIR is a view made by
 * the mapping when a plan is read through the FHIR facade.
 */
import type { PlanStatus, Problem, SipPlan, TrafficLight } from '../sip/index.js';
import type { OutboxStore } from './outbox.js';
import type { StatisticsKeeping, UpkeepOptions, Vacuumed } from './statistics.js';

/**
 * A resource of a plan version's FHIR view, as the caller that writes the version names it
 * (src/fhir/resource-ids.ts): its type and its id on the FHIR facade. The store records the pairs so
 * `plansWithResource` can go from an id to the plans, without knowing FHIR itself (DESIGN.md §2).
 */
export interface PlanResource {
  readonly resourceType: string;
  readonly id: string;
}

/** Computes the resources of a stored plan version; `migrate` uses it for versions stored before they were recorded. */
export type PlanResourcesOf = (plan: SipPlan) => readonly PlanResource[];

/**
 * The JSON text of one resource of a version's FHIR view, as the writer made it (src/http/derived-view.ts),
 * split where a read puts `"versionId":…,"lastUpdated":…` of the stored version: `head` + those + `tail`.
 */
export interface DerivedText {
  readonly resourceType: string;
  readonly id: string;
  readonly head: string;
  readonly tail: string;
}

/**
 * What a read derives from a plan version alone, computed by the writer (migration 6). The store keeps
 * it as given, opaque, under `deriver` (which names the mapping and rules that computed it) and hands
 * it back only to a read that asks for the same `deriver`.
 */
export interface DerivedVersion {
  readonly deriver: string;
  /** The findings of the rules that do not depend on the instant, as JSON text. */
  readonly basis: string;
  /**
   * What access and the rules that read the instant need of the plan, as JSON text (migration 8,
   * src/sip/plan-summary.ts), so a read answered from the texts does not parse the whole plan.
   */
  readonly summary?: string;
  /** The version's traffic light and status (migration 11), so a SIP read that answers the plan's stored text need not parse it. */
  readonly standing?: PlanStanding;
  readonly texts: readonly DerivedText[];
}

/**
 * What a SIP answer says of a version beside its plan: `trafficLight(plan)` and `planStatus(plan)`,
 * both functions of the plan alone (src/sip/lifecycle.ts), kept with what is derived from it.
 */
export interface PlanStanding {
  readonly trafficLight: TrafficLight;
  readonly status: PlanStatus;
}

/** What a read found derived for a stored version: the basis, and the texts of the resources it asked for that were derived. */
export interface StoredDerivation {
  readonly basis: string;
  /** The judging summary, when one was kept with the basis (none for derived rows written before migration 8). */
  readonly summary?: string;
  /** The traffic light and status, when they were kept and the read asked for them (none for derived rows written before migration 11). */
  readonly standing?: PlanStanding;
  readonly texts: readonly DerivedText[];
}

/** Which derived data a read asks for: that of `deriver`, and the texts of resources of this type (and id). */
export interface DerivedRequest {
  readonly deriver: string;
  /**
   * The type of the resource whose text to bring, with the judging summary; none brings the basis, the
   * judging summary and the traffic light and status, and no text (a SIP read or search, which answers
   * the plan's stored text).
   */
  readonly resourceType?: string;
  readonly resourceId?: string;
  /**
   * `false`: the judging summary without the text of `resourceType`'s resource — for a walk that judges
   * many versions on their summaries and answers a page of them, whose texts it then asks for alone
   * ({@link PlanStore.keptTexts}). A kept CarePlan's text is some kilobytes a version; a status
   * worklist of 5,000 plans read all of them for a page of 20.
   */
  readonly text?: false;
}

/** A version of a plan, by its plan's id and its number. */
export interface VersionKey {
  readonly planId: string;
  readonly version: number;
}

/** One stored version of a plan. `version` is the plan's own (`SipPlan.version`), 1, 2, 3 … with no gaps. */
export interface StoredPlan {
  /**
   * The version's plan. A store may parse it from its stored text only when first read (src/store/plan-rows.ts),
   * so a read that judges from {@link StoredDerivation.summary} does not pay for it.
   */
  readonly plan: SipPlan;
  readonly version: number;
  /** When the store recorded this version (the server's clock), ISO 8601. */
  readonly recordedAt: string;
  /** Who recorded it: the calling organisation's HSA-id, or `system` for the example plans. */
  readonly recordedBy: string;
  /** What was derived from the version under the deriver the read asked for; absent when nothing was (or none was asked for). */
  readonly derived?: StoredDerivation;
}

/**
 * A stored version without its plan: which version it is, and what was derived from it under the
 * deriver asked for ({@link PlanStore.keptWithResource}). A read that judges from the kept judging
 * summary and answers a kept text needs no more; one that needs the plan asks for the version with
 * `get(planId, version)`. It has no `plan` member at all, so nothing can read a plan that was not brought.
 */
export interface StoredVersionHead {
  readonly planId: string;
  readonly version: number;
  /** As {@link StoredPlan.recordedAt}. */
  readonly recordedAt: string;
  readonly recordedBy: string;
  /** What was derived from the version under the deriver asked for; absent when nothing was. */
  readonly derived?: StoredDerivation;
  /**
   * The plan's status as its writer recorded it with the version (`plans.status`, `planStatus` of the
   * version's plan, src/sip/lifecycle.ts, written in the version's transaction): only
   * {@link PlanStore.searchHeads} brings it, whose heads are each plan's current version.
   */
  readonly status?: PlanStatus;
}

/** A version of a plan as {@link PlanStore.versionTimes} lists it. */
export interface VersionTime {
  readonly version: number;
  /** When the store recorded it, ISO 8601 (as `StoredPlan.recordedAt`). */
  readonly recordedAt: string;
}

/** A plan version named by its plan and number, with when it was recorded: an entry of the versions of every plan, newest first. */
export interface RecordedVersion {
  readonly planId: string;
  readonly version: number;
  readonly recordedAt: string;
}

export interface PlanSearch {
  /** personnummer, samordningsnummer or reservnummer value of the individual, as written in the plan. */
  readonly personIdentifier?: string;
  /** The plan status (lifecycle.ts `planStatus`): draft, active, completed, revoked; or any of several. */
  readonly status?: string | readonly string[];
  /** A principal's local id in the plan, or its HSA-id / organisationsnummer / kommunkod / länskod. */
  readonly principal?: string;
  /** Plans with an unheld follow-up dated on or before this date (YYYY-MM-DD). */
  readonly followUpDueBy?: string;
  /**
   * Plans whose consent in force ends on or before this date (YYYY-MM-DD): the latest `validUntil` of
   * the plan's own consents that are not withdrawn. A plan with no such consent (none given, or all
   * withdrawn) has no consent to end and is not found.
   */
  readonly consentEndsBy?: string;
  /** Open plans with a follow-up whose date has passed at this instant without being held. */
  readonly overdueAt?: Date;
  /** At most this many plans (default 100, at most 1000); `total` counts them all. */
  readonly limit?: number;
  readonly offset?: number;
  /**
   * Only plans whose id sorts after this one (the store's order): a walk over every match a page at a
   * time that a plan recorded meanwhile does not shift, unlike `offset`.
   */
  readonly afterPlanId?: string;
  /** The derived data to return with each plan (see {@link StoredPlan.derived}). */
  readonly derived?: DerivedRequest;
  /**
   * `false`: the page alone, without counting every match ({@link UncountedPlanSearch}). A walk over
   * every match a page at a time needs no total, and a count on each of its pages would read every
   * match after it again: the walk's work would grow with the square of the store.
   */
  readonly total?: boolean;
}

/** A {@link PlanSearch} that asks for its page only: the answer has no `total`. */
export type UncountedPlanSearch = PlanSearch & { readonly total: false };

/** What the audit log records of every read and write (Patientdatalagen: access logging). */
export interface AuditEntry {
  readonly at: string;
  /** The calling organisation (HSA-id), or `anonymous` for a refused call without a valid token. */
  readonly organization: string;
  /** The calling user or system, as its token names it (`sub`), when known. */
  readonly agent?: string;
  /** The plan concerned, when there is one. */
  readonly planId?: string;
  /** The person concerned (their identifier value), when known. */
  readonly personIdentifier?: string;
  readonly action: 'create' | 'read' | 'update' | 'search' | 'delete' | 'execute';
  /** What was asked, e.g. `GET /sip/plans/sip-falun-2026-0142`. */
  readonly what: string;
  readonly outcome: 'success' | 'refused' | 'failed';
  /** The HTTP status or error code that ended it. */
  readonly detail?: string;
}

/** An audit entry as the log keeps it: with the id the log gave it, stable for ever (the AuditEvent's id). */
export interface RecordedAuditEntry extends AuditEntry {
  /** A positive whole number as text, unique in the log; larger for entries appended later. */
  readonly id: string;
}

/** Which audit entries to return, newest first (by `at`, then by the order they were appended). */
export interface AuditQuery {
  /** The person concerned (their identifier value). */
  readonly personIdentifier?: string;
  /** The calling organisation (HSA-id). */
  readonly organization?: string;
  /** The calling user or system, as its token named it (`sub`). */
  readonly agent?: string;
  /** The plan concerned. */
  readonly planId?: string;
  /** Entries at or after this instant (ISO 8601). */
  readonly since?: string;
  /** Entries at or before this instant. */
  readonly until?: string;
  /** Entries strictly before this instant. */
  readonly before?: string;
  /**
   * Only entries the organisation with this HSA-id may review: those it made itself, those about a
   * plan whose current version names it as a principal (by HSA-id), and those that name no plan but
   * the person of such a plan. Who may read what is decided by the HTTP layer; this is the filter.
   */
  readonly visibleTo?: string;
  /** The next page: entries that come after the entry with this id in the newest-first order. */
  readonly afterId?: string;
  /** At most this many entries (default 100, at most 1000). */
  readonly limit?: number;
}

/** A write refused because the plan changed since the caller read it (`If-Match`, HTTP 412). */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly planId: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(`plan "${planId}" is at version ${String(current)}, not ${String(expected)}`);
  }
}

/** A create refused because a plan with that id exists (HTTP 409). */
export class PlanExistsError extends Error {
  override readonly name = 'PlanExistsError';
  constructor(readonly planId: string) {
    super(`plan "${planId}" already exists`);
  }
}

/** An update of a plan the store does not have (HTTP 404). */
export class PlanNotFoundError extends Error {
  override readonly name = 'PlanNotFoundError';
  constructor(readonly planId: string) {
    super(`plan "${planId}" does not exist`);
  }
}

/** A plan handed to `create` or `update` that does not pass the SIP model (HTTP 422); nothing is written. */
export class InvalidPlanError extends Error {
  override readonly name = 'InvalidPlanError';
  constructor(
    readonly planId: string | undefined,
    readonly problems: readonly Problem[],
  ) {
    super(`plan${planId === undefined ? '' : ` "${planId}"`} is not a valid SIP: ${problems.map((problem) => `${problem.code} at ${problem.pointer || '/'}`).join(', ')}`);
  }
}

/**
 * A stored version that no longer parses as a SIP (the model changed under it, or the row was edited
 * outside the store): an error of the server (HTTP 500) naming the plan and the version.
 */
export class UnreadablePlanError extends Error {
  override readonly name = 'UnreadablePlanError';
  constructor(
    readonly planId: string,
    readonly version: number,
    readonly problems: readonly Problem[],
  ) {
    super(
      `stored plan "${planId}" version ${String(version)} no longer parses: ${problems.map((problem) => `${problem.code} at ${problem.pointer || '/'}`).join(', ')}`,
    );
  }
}

/** What is written in the same transaction as a new version, beside it. */
export interface VersionWriteOptions {
  /** The receivers the version is delivered to: one pending outbox row each (issue #14). */
  readonly deliverTo?: readonly string[];
  /** What a read derives from the version alone (migration 6). */
  readonly derived?: DerivedVersion;
  /**
   * The audit entry of the call that records the version (its success, src/http/audited-route.ts),
   * appended to the audit log in the version's transaction: committed with the version or, when the
   * write fails, not at all. The version's commit is then the entry's, one commit where the audit
   * writer's own INSERT was a second (docs/performance.md, branch `i11-audit-tx`). A malformed `at`
   * is a RangeError and nothing is written.
   */
  readonly audit?: AuditEntry;
}

export interface PlanStore {
  /**
   * Applies pending migrations; safe to call on every start and from several processes at once.
   * With `resourcesOf`, the resources of plans stored before they were recorded (migration 2) are
   * recorded too; without it such plans stay unknown to `plansWithResource`.
   */
  migrate(options?: { readonly resourcesOf?: PlanResourcesOf }): Promise<void>;
  /**
   * Stores version 1 of a new plan (its `version` must be 1, else {@link VersionConflictError} as
   * from version 0). Throws {@link PlanExistsError} when the id is taken — a unique key, never
   * check-then-insert, so concurrent creates cannot both win — and {@link InvalidPlanError} when the
   * plan does not pass the SIP model. `resources` are the resources of the version's FHIR view
   * (computed by the caller from the plan as `parsePlan` returns it), recorded in the same transaction;
   * a pair that is not a FHIR type and id is a RangeError and nothing is written.
   * `options.deliverTo` are the receivers the version is routed to (the caller routes it): one
   * outbox row each, pending, written in the same transaction, so the version and its deliveries are
   * committed together or not at all (issue #14). A malformed or repeated receiver id is a RangeError.
   * `options.derived` is what a read derives from the version alone, computed by the caller from the
   * plan as `parsePlan` returns it and kept in the same transaction (migration 6). `options.audit`
   * is appended to the audit log in the same transaction too.
   */
  create(plan: SipPlan, recordedBy: string, resources: readonly PlanResource[], options?: VersionWriteOptions): Promise<StoredPlan>;
  /**
   * Stores the next version of a plan, in one transaction, serialised with other writes to the same
   * plan: `plan.version` must be `expectedVersion + 1`, and `expectedVersion` the current one, else
   * {@link VersionConflictError}; {@link PlanNotFoundError} when there is no such plan. Nothing is
   * half-written when it fails. `resources` and `options` as for `create`.
   */
  update(plan: SipPlan, expectedVersion: number, recordedBy: string, resources: readonly PlanResource[], options?: VersionWriteOptions): Promise<StoredPlan>;
  /**
   * Keeps what was derived from a stored version (one written before migration 6, or by a writer that
   * derived nothing, or under another deriver); derived data already kept under the same deriver stays
   * as it is. {@link PlanNotFoundError} when there is no such version.
   */
  derive(planId: string, version: number, derived: DerivedVersion): Promise<void>;
  /**
   * The current version, or the given one; undefined when there is none. A stored version that no
   * longer parses throws {@link UnreadablePlanError} (also from `history` and `search`). With `derived`,
   * what is derived from the version under that deriver comes with it, as from `search`.
   */
  get(planId: string, version?: number, options?: { readonly derived?: DerivedRequest }): Promise<StoredPlan | undefined>;
  /** Every version of a plan, oldest first. */
  history(planId: string): Promise<StoredPlan[]>;
  /**
   * The number and recording instant of every version of a plan, oldest first, without the plans:
   * what a history page needs to choose which versions to read (src/http/fhir-history-routes.ts).
   */
  versionTimes(planId: string): Promise<VersionTime[]>;
  /**
   * The versions of every plan, newest first (by recording instant, then plan id and version, both
   * descending), without the plans: at most `limit`, those recorded at or after `since`, those after
   * `after` in that order (a version the store holds; its own plan and number, not its instant, so
   * versions recorded in the same microsecond are neither skipped nor repeated). What the history of
   * a whole type walks (src/http/fhir-type-history.ts).
   */
  recentVersions(query: { readonly limit: number; readonly since?: Date; readonly after?: { readonly planId: string; readonly version: number } }): Promise<RecordedVersion[]>;
  /**
   * The given versions of a plan, oldest first (a number it does not have is left out); with
   * `derived`, each comes with what was derived from it under that deriver and, when derived, the
   * text of the one resource named. A version that no longer parses throws as `get` does.
   */
  versions(planId: string, versions: readonly number[], options?: { readonly derived?: DerivedRequest }): Promise<StoredPlan[]>;
  /** The current versions matching every given criterion, by plan id; `total` counts them all, unless the query says `total: false`. */
  search(query: UncountedPlanSearch): Promise<{ plans: StoredPlan[] }>;
  search(query: PlanSearch): Promise<{ total: number; plans: StoredPlan[] }>;
  /**
   * {@link search} with each version without its plan document (the column is not read, so neither
   * the database nor the driver handles its text): what a FHIR search answered from kept summaries and
   * texts needs. The same versions, in the same order, with the same total.
   */
  searchHeads(query: UncountedPlanSearch): Promise<{ plans: StoredVersionHead[] }>;
  searchHeads(query: PlanSearch): Promise<{ total: number; plans: StoredVersionHead[] }>;
  /**
   * The kept texts of the resources of `resourceType` derived under `deriver` from each version given
   * (none for a version without), in one query: what a walk judged on summaries alone
   * (`DerivedRequest.text: false`) answers its page with. In no particular order.
   */
  keptTexts(versions: readonly VersionKey[], deriver: string, resourceType: string): Promise<(DerivedText & VersionKey)[]>;
  /**
   * The ids of the plans whose FHIR view has, or had in any version, a resource of this type and id
   * (as the writer named them to `create` / `update`), sorted; several for shared master data, none for an unknown id.
   */
  plansWithResource(resourceType: string, resourceId: string): Promise<string[]>;
  /**
   * The current versions of the plans {@link plansWithResource} names, by plan id, in one query: what a
   * read of a FHIR resource by its id needs. A version that no longer parses throws as `get` does.
   * With `deriver`, each comes with what was derived from it under that deriver, and the text of this resource.
   */
  currentWithResource(resourceType: string, resourceId: string, options?: { readonly deriver?: string }): Promise<StoredPlan[]>;
  /**
   * {@link currentWithResource} with `deriver`, each version without its plan document (the column is
   * not read, so neither the database nor the driver handles its text): what a FHIR read answered from
   * a kept text needs. The same versions, in the same order.
   */
  keptWithResource(resourceType: string, resourceId: string, deriver: string): Promise<StoredVersionHead[]>;
  /**
   * Appends to the audit log; entries are never changed or deleted. Resolves when the entry is
   * committed. (An entry about a version written is appended with it instead: `VersionWriteOptions.audit`.)
   */
  audit(entry: AuditEntry): Promise<void>;
  /** Audit entries, newest first, matching every criterion given. A malformed instant or id is a RangeError. */
  auditLog(query: AuditQuery): Promise<RecordedAuditEntry[]>;
  /** How many audit entries match every criterion of the query, on all pages (`afterId` and `limit` are not read). */
  auditCount(query: AuditQuery): Promise<number>;
  /** One audit entry by its id; undefined when there is none, or when `visibleTo` may not review it (see {@link AuditQuery}). */
  auditEntry(id: string, options?: { readonly visibleTo?: string }): Promise<RecordedAuditEntry | undefined>;
  /** The outbox of deliveries to receivers (outbox.ts), on the same database. */
  readonly outbox: OutboxStore;
  /**
   * The upkeep of the store's tables autovacuum would do (statistics.ts): who does it, an `ANALYZE`
   * of each table whose rows changed past autovacuum's threshold (the tables analyzed), and a `VACUUM`
   * of each past one of its vacuum triggers (the tables vacuumed and why), for a database whose
   * autovacuum does not (PGlite, or a server with `autovacuum = off`). A table done less than
   * `autovacuum_naptime` ago waits, as between autovacuum's rounds (`options.pauseSeconds` to change that).
   */
  readonly statistics: { keeping(): Promise<StatisticsKeeping>; analyzeDue(options?: UpkeepOptions): Promise<string[]>; vacuumDue(options?: UpkeepOptions): Promise<Vacuumed[]> };
  close(): Promise<void>;
}
