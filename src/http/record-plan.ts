/**
 * The one place where an incoming plan — read from a FHIR transaction (`POST /fhir`) or translated
 * from a municipal system's export (`POST /exchange/inbound/{mapping}`) — is recorded: as version 1
 * when the adapter does not hold the plan, as the next version when it does and the plan states
 * something new, and as nothing at all when it states the same ({@link samePlanContent}), so a
 * replay creates nothing twice.
 *
 * Concurrency rests on the store, never on check-then-insert: the create is refused by the store's
 * unique key ({@link PlanExistsError}) and the update by its version check
 * ({@link VersionConflictError}) when another write came first, and the plan is then decided again
 * on what is stored now, {@link MAX_ATTEMPTS} times at most (409 after). Each store call records the
 * version in one database transaction: nothing is half-written.
 *
 * The store calls are here and nowhere else on the write paths that take plans from outside, so
 * what must happen in the same transaction as a new version (the outbox's deliveries, issue #14
 * point 2; the call's success entry in the audit log) has one place to be passed.
 */
import { DEFAULT_MAPPING_OPTIONS, planEntries, planResourceIds, resourceIdsOf, type PlanEntry } from '../fhir/index.js';
import { checkPlanWithBasis, revisePlan, samePerson, type Approval, type Problem, type SendBasis, type SipPlan } from '../sip/index.js';
import { PlanExistsError, VersionConflictError, type PlanResource, type StoredPlan, type VersionWriteOptions } from '../store/plan-store.js';
import { derivedVersion } from './derived-view.js';
import type { AppDependencies, Caller } from './app.js';
import type { AuditSubject, VersionAudit } from './audited-route.js';
import { asFirstVersion, keepWithheld, sameClosure, samePlanContent } from './fhir-transaction.js';
import { HttpError } from './problem.js';
import { assertMayCreate, assertMayReplaceWhole } from './reserved-acts.js';
import { etagOf } from './sip-routes.js';

/** What is written beside a new version: its routed deliveries and what a read derives from it alone (from the view already mapped and the send basis found as the version was checked). */
function versionWrite(dependencies: Pick<AppDependencies, 'routeDeliveries'>, plan: SipPlan, view: readonly PlanEntry[], basis: SendBasis, writtenBy: string): VersionWriteOptions {
  return {
    derived: derivedVersion(plan, view, basis),
    ...(dependencies.routeDeliveries === undefined ? {} : { deliverTo: dependencies.routeDeliveries(plan, writtenBy) }),
  };
}

/** A version about to be written: what the caller made of it (`prepare`), the ids of its resources and what is written beside it. */
interface VersionToWrite<T> {
  readonly prepared: T;
  readonly resources: readonly PlanResource[];
  readonly write: VersionWriteOptions;
}

/**
 * Maps the version to record to FHIR, has the caller check it (`prepare`, which may refuse it), then
 * derives what is written beside it. A plain function, not part of {@link recordPlan}: a local of an
 * async function, and anything its closures capture, is kept with the suspended call through the
 * store's round trip, and the FHIR view (every resource of the plan mapped, thousands of objects) then
 * outlived the scavenges meanwhile and was promoted with every write in flight (docs/performance.md,
 * "What a transaction leaves behind"). Only the ids and the derived texts are kept.
 */
function versionToWrite<T>(dependencies: Pick<AppDependencies, 'routeDeliveries'>, request: RecordRequest<T>, plan: SipPlan, basis: SendBasis, step: (view: readonly PlanEntry[]) => RecordStep): VersionToWrite<T> {
  const view = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
  const prepared = request.prepare(step(view));
  return { prepared, resources: resourceIdsOf(view), write: versionWrite(dependencies, plan, view, basis, request.caller.organization) };
}

/** How often a plan is decided again after another write to the same plan came first. */
export const MAX_ATTEMPTS = 10;

/** The plan about to be recorded (or, unchanged, the current one), for the caller to check against what it was sent. */
export type RecordStep =
  | { readonly kind: 'create'; readonly plan: SipPlan; readonly view: readonly PlanEntry[] }
  /** `before`: `Type/id` of each resource of the current version's FHIR view. */
  | { readonly kind: 'update'; readonly plan: SipPlan; readonly view: readonly PlanEntry[]; readonly before: ReadonlySet<string> }
  | { readonly kind: 'unchanged'; readonly plan: SipPlan };

/** The errors a path answers in its own words and locations (a FHIRPath into the Bundle, a JSON pointer into the plan). */
export interface RecordRefusals {
  /** The plan to record breaks a rule of the SIP model (422). */
  rules(problems: readonly Problem[]): Error;
  /** A plan new here carries an approval of a version the adapter never had (422). */
  earlierApproval(planId: string): Error;
  /** The incoming plan closes the plan, or changes its closure: that is the SIP API's step (422). */
  closure(planId: string): Error;
}

export interface RecordRequest<T> {
  readonly incoming: SipPlan;
  readonly caller: Caller;
  /** Filled in with the audited action (create or update) as soon as it is known. */
  readonly subject: AuditSubject;
  /** The call's success entry, written in the transaction of the version recorded (src/http/audited-route.ts). */
  readonly versionAudit: VersionAudit;
  /** The status the caller is answered when a version is recorded: of a new plan, of the next version. The entry written with the version names it. */
  readonly answers: Readonly<Record<'created' | 'updated', number>>;
  /** The version the caller says it changes (`If-Match`), when it says one. */
  readonly expectedVersion?: number;
  /**
   * What to do with approvals of earlier versions in a plan new to the adapter: refuse it
   * (`refuse`, the FHIR facade: its client can send it again without them) or record it without
   * them (`drop`, the inbound mappings: the system's export is what it is, and the dropped approvals
   * are reported back).
   */
  readonly earlierApprovals: 'refuse' | 'drop';
  readonly refusals: RecordRefusals;
  /**
   * Called with the plan about to be recorded before anything is written: it may throw to refuse
   * the write (then nothing is recorded), and what it returns travels with the result.
   */
  readonly prepare: (step: RecordStep) => T;
}

export interface Recorded<T> {
  readonly stored: StoredPlan;
  /** The audited action. */
  readonly action: 'create' | 'update';
  /** What happened: a new plan, a new version, or nothing (the plan states what the current version states). */
  readonly result: 'created' | 'updated' | 'unchanged';
  readonly prepared: T;
  /** Approvals left out of a new plan because they name a version the adapter never had (`earlierApprovals: 'drop'`). */
  readonly droppedApprovals: readonly Approval[];
}

/**
 * Records `request.incoming` as the caller: the scopes for a create or an update checked once the
 * adapter knows which it is, the caller's access to the plan (`mayAccess`, DESIGN §7) judged on the
 * stored plan for an update and on the incoming one for a create.
 */
export async function recordPlan<T>(dependencies: Pick<AppDependencies, 'store' | 'clock' | 'mayAccess' | 'routeDeliveries'>, request: RecordRequest<T>): Promise<Recorded<T>> {
  const { store, clock } = dependencies;
  const { incoming, caller, subject, expectedVersion: expected, refusals, versionAudit, answers } = request;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const current = await store.get(incoming.id);
    const at = clock();
    if (current === undefined) {
      subject.action = 'create';
      if (expected !== undefined) throw new HttpError(412, 'Precondition Failed', `If-Match names version ${String(expected)} of plan "${incoming.id}", which the adapter does not hold`);
      if (!caller.may('create')) throw new HttpError(403, 'Forbidden', "The token's scopes do not allow recording a new plan (system/CarePlan.write, or system/CarePlan.c in SMART v2)");
      const access = dependencies.mayAccess(incoming, caller, at);
      if (!access.allowed) throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not record this plan: ${access.reason}`);
      const dropped = request.earlierApprovals === 'drop' ? incoming.approvals.filter((approval) => approval.version !== incoming.version) : [];
      const first = asFirstVersion(dropped.length === 0 ? incoming : { ...incoming, approvals: incoming.approvals.filter((approval) => approval.version === incoming.version) }, at);
      if (first === undefined) throw refusals.earlierApproval(incoming.id);
      // A new plan is a principal's to record, and each approval in it its own principal's (src/http/reserved-acts.ts).
      assertMayCreate(first, access, caller.organization);
      // The rules run once for the version recorded: its problems and its send basis together.
      const checked = checkPlanWithBasis(first);
      const problems = checked.problems.filter((problem) => problem.severity === 'error');
      if (problems.length > 0) throw refusals.rules(problems);
      const { prepared, resources, write } = versionToWrite(dependencies, request, first, checked.basis, (view) => ({ kind: 'create', plan: first, view }));
      try {
        const stored = await versionAudit.recording(answers.created, (audit) => store.create(first, caller.organization, resources, { ...write, audit }));
        return { stored, action: 'create', result: 'created', prepared, droppedApprovals: dropped };
      } catch (error) {
        if (error instanceof PlanExistsError) continue;
        throw error;
      }
    }
    subject.action = 'update';
    const access = dependencies.mayAccess(current.plan, caller, at);
    if (!access.allowed) throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not change plan "${current.plan.id}": ${access.reason}`);
    // A narrowed reader, or an other actor changing the consents, may not replace the plan whole (src/http/reserved-acts.ts).
    assertMayReplaceWhole(current.plan, incoming, access, caller.organization, at);
    if (expected !== undefined && expected !== current.version) {
      throw new HttpError(412, 'Precondition Failed', `Plan "${current.plan.id}" is at version ${String(current.version)}, not ${String(expected)}; read it again and redo the change`, [], { ETag: etagOf(current.version) });
    }
    if (!samePerson(current.plan, incoming)) {
      throw new HttpError(
        409,
        'Conflict',
        `Plan "${current.plan.id}" is about another person: the adapter holds it for a ${current.plan.individual.identifier.system}, and this one names a ${incoming.individual.identifier.system} that is not the same person; a plan id names one person's plan, so give this plan an id of its own. Nothing was recorded`,
      );
    }
    if (incoming.closure !== undefined && !sameClosure(current.plan, incoming)) throw refusals.closure(current.plan.id);
    if (samePlanContent(current.plan, incoming)) {
      return { stored: current, action: 'update', result: 'unchanged', prepared: request.prepare({ kind: 'unchanged', plan: current.plan }), droppedApprovals: [] };
    }
    if (!caller.may('update')) throw new HttpError(403, 'Forbidden', "The token's scopes do not allow changing a plan (system/CarePlan.write, or system/CarePlan.u in SMART v2)");
    const next = revisePlan(current.plan, keepWithheld(current.plan, incoming), { at });
    const checked = checkPlanWithBasis(next);
    const problems = checked.problems.filter((problem) => problem.severity === 'error');
    if (problems.length > 0) throw refusals.rules(problems);
    const before = new Set(planResourceIds(current.plan).map((id) => `${id.resourceType}/${id.id}`));
    const { prepared, resources, write } = versionToWrite(dependencies, request, next, checked.basis, (view) => ({ kind: 'update', plan: next, view, before }));
    try {
      const stored = await versionAudit.recording(answers.updated, (audit) => store.update(next, current.version, caller.organization, resources, { ...write, audit }));
      return { stored, action: 'update', result: 'updated', prepared, droppedApprovals: [] };
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (expected !== undefined) throw new HttpError(412, 'Precondition Failed', `Plan "${current.plan.id}" changed while this write was recorded; read it again and redo the change`, [], { ETag: etagOf(error.current) });
    }
  }
  throw new HttpError(409, 'Conflict', `Plan "${incoming.id}" was changed by ${String(MAX_ATTEMPTS)} other writes while this one was being recorded; send it again`);
}
