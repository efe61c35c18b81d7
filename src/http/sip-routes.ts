/**
 * The SIP JSON API under `/sip`: plans as the SIP model has them (src/sip/model/), each change a new
 * immutable version. Every model rule that is broken answers 422 with the rule's code and JSON
 * pointer; warnings travel in the answer without failing it. A write names the version it edits in
 * `If-Match`, and a stale one answers 412: required for an edited plan (`PUT`), optional for the
 * changes recorded as the next version (approvals, consents and their withdrawal, meetings, their
 * summons and answers, the closure), which are made on whatever version is current.
 *
 * Request bodies and the search query are parsed with the schemas of ./sip-schemas.ts, which the
 * OpenAPI document (./openapi.ts) is generated from; a new route needs its entry there
 * (test/http/openapi.test.ts checks).
 *
 * Every call is written to the audit log: who (organisation and agent), which plan and person, what,
 * when, and how it ended.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import type { z } from 'zod';
import { planResourceIds } from '../fhir/index.js';
import { currentDeriver, derivedVersion, judgingPlanOf, storedSendAndRecorded, storedSendRefusal } from './derived-view.js';
import { refusalOf } from './sending.js';
import type { Problem, SendBasis, SipPlan } from '../sip/index.js';
import {
  SipRuleError,
  addMeeting,
  answerSummons,
  approvePlan,
  checkPlan,
  checkPlanWithBasis,
  closePlan,
  parsePlan,
  planStatus,
  recordConsent,
  recordMeetingOutcome,
  revisePlan,
  summonMeeting,
  trafficLight,
  withdrawConsent,
} from '../sip/index.js';
import type { DerivedRequest, PlanSearch, StoredPlan, VersionWriteOptions } from '../store/plan-store.js';
import { PlanExistsError, VersionConflictError } from '../store/plan-store.js';
import { documentTextOf } from '../store/plan-rows.js';
import type { AppDependencies, Caller } from './app.js';
import { auditedRoutes, type AuditSubject, type VersionAudit } from './audited-route.js';
import { HttpError } from './problem.js';
import { sendRefusal } from './sending.js';
import { narrowedRead } from './narrowing.js';
import { assertMayAct, assertMayCreate, assertMayReplaceWhole, type Admission, type ReservedAct } from './reserved-acts.js';
import type { AccessRole } from './auth/access.js';
import { searchedPerson } from './person-search.js';
import {
  approvalRequestSchema,
  closureRequestSchema,
  consentRequestSchema,
  meetingOutcomeRequestSchema,
  meetingRequestSchema,
  planSearchQuerySchema,
  summonsAnswerRequestSchema,
  summonsRequestSchema,
  withdrawalRequestSchema,
  type PlanAnswer,
} from './sip-schemas.js';
import { utf8Bytes } from './utf8.js';

/**
 * What the API answers of a version beside its plan: which version, and what follows from the plan —
 * its traffic light and status as kept with the version (migration 11) when they were, else computed
 * from the plan (which then parses it).
 */
function versionFacts(stored: StoredPlan, warnings: readonly Problem[]): Omit<PlanAnswer, 'plan'> {
  const standing = stored.derived?.standing;
  return {
    version: stored.version,
    recordedAt: stored.recordedAt,
    recordedBy: stored.recordedBy,
    trafficLight: standing?.trafficLight ?? trafficLight(stored.plan),
    status: standing?.status ?? planStatus(stored.plan),
    ...(warnings.length === 0 ? {} : { warnings: [...warnings] }),
  };
}

/** The plan as the API answers it: the plan, which version, and what follows from it. */
function planBody(stored: StoredPlan, warnings: readonly Problem[] = []): PlanAnswer {
  return { plan: stored.plan, ...versionFacts(stored, warnings) };
}

/**
 * `JSON.stringify(planBody(stored, …))`, with the plan's text spliced in when the store has it as
 * `JSON.stringify` would write it ({@link documentTextOf}): the plan, ≈ 7 kB, is then not serialised
 * again, and with the version's kept traffic light and status not parsed either. Undefined when the
 * store has no such text (a narrowed reading, a version another model wrote).
 */
function planBodyText(stored: StoredPlan, warnings: readonly Problem[] = []): string | undefined {
  const text = documentTextOf(stored);
  // versionFacts always has members (version, recordedAt …), so its text is never `{}`.
  return text === undefined ? undefined : `{"plan":${text},${JSON.stringify(versionFacts(stored, warnings)).slice(1)}`;
}

/**
 * JSON text written as `response.json` would have written its value: its Content-Type unless one was
 * set (Express's `set` names the charset, as `send` names it for a text), its UTF-8 through ICU
 * (src/http/utf8.ts).
 */
function sendJsonText(response: Response, text: string): void {
  if (!response.get('Content-Type')) response.set('Content-Type', 'application/json');
  response.send(utf8Bytes(text));
}

/**
 * `response.json(planBody(stored, …))` as {@link planBodyText} writes it when it can: the same bytes
 * and Content-Type as `response.json` (the app sets no JSON replacer, spaces or escape).
 */
function sendPlanBody(response: Response, stored: StoredPlan, warnings: readonly Problem[] = []): void {
  const text = planBodyText(stored, warnings);
  if (text === undefined) {
    response.json(planBody(stored, warnings));
    return;
  }
  sendJsonText(response, text);
}

export const etagOf = (version: number): string => `W/"${String(version)}"`;

/** The version an `If-Match` header names: `W/"3"`, `"3"` or `3`. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function rejectProblems(problems: readonly Problem[], what: string): void {
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) throw new HttpError(422, 'Unprocessable Content', `${what} breaks ${String(errors.length)} rule${errors.length === 1 ? '' : 's'} of the SIP model`, errors);
}

/** A plan from a request body, through the SIP model's schema (422 with every problem). */
function planFrom(body: unknown): SipPlan {
  const parsed = parsePlan(body);
  if (!parsed.ok) throw new HttpError(422, 'Unprocessable Content', 'The body is not a valid SIP plan', parsed.problems);
  return parsed.plan;
}

function bodyOf<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new HttpError(
    422,
    'Unprocessable Content',
    'The body is not what this endpoint takes',
    parsed.error.issues.map((issue) => ({ code: 'request.invalid', severity: 'error', pointer: issue.path.map((segment) => `/${String(segment)}`).join(''), message: issue.message })),
  );
}

export function sipRouter(dependencies: AppDependencies): Router {
  const { store, clock } = dependencies;
  const router = Router();
  /** What is written beside a new version: its routed deliveries and what a read derives from it alone. */
  const versionWrite = (plan: SipPlan, basis: SendBasis, writtenBy: string): VersionWriteOptions => ({
    derived: derivedVersion(plan, undefined, basis),
    ...(dependencies.routeDeliveries === undefined ? {} : { deliverTo: dependencies.routeDeliveries(plan, writtenBy) }),
  });

  /** Runs a route as the caller and audits how it ended; store and rule errors become HTTP errors. */
  const route = auditedRoutes(dependencies, (error) =>
    error instanceof VersionConflictError
      ? new HttpError(412, 'Precondition Failed', `The plan is at version ${String(error.current)}, not ${String(error.expected)}; read it again and redo the change`, [], { ETag: etagOf(error.current) })
      : error instanceof PlanExistsError
        ? new HttpError(409, 'Conflict', `A plan "${error.planId}" exists; change it with PUT /sip/plans/${error.planId}`)
        : error instanceof SipRuleError
          ? new HttpError(422, 'Unprocessable Content', 'The change breaks a rule of the SIP process', error.problems)
          : error,
  );

  /**
   * The current plan the caller may see, whole, and the party it is admitted as; 404 when there is
   * none, 403 when it is not theirs to see. A route that answers plan data narrows it for the role
   * (src/http/narrowing.ts); a change is made on the whole plan.
   */
  async function admitted(planId: string, caller: Caller, subject: AuditSubject, options: { readonly derived?: DerivedRequest } = {}): Promise<{ stored: StoredPlan; role?: AccessRole; admission: Admission }> {
    subject.planId = planId;
    const stored = await store.get(planId, undefined, options);
    if (stored === undefined) throw new HttpError(404, 'Not Found', `No plan "${planId}"`);
    // On the version's judging summary when the read asked for it and one was kept (derived-view.ts), else the plan.
    const judged = judgingPlanOf(stored);
    subject.person = judged.individual.identifier.value;
    const access = dependencies.mayAccess(judged, caller, clock());
    if (!access.allowed) throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not see plan "${planId}": ${access.reason}`);
    return access.role === undefined ? { stored, admission: access } : { stored, role: access.role, admission: access };
  }

  /** A version as the caller reads it at `at` (narrowed for an other actor), or the 403 that refuses it. */
  function asRead(stored: StoredPlan, role: AccessRole | undefined, at: Date, currentPlan?: SipPlan): StoredPlan {
    const read = narrowedRead(stored, role, at, currentPlan);
    if (read instanceof HttpError) throw read;
    return read;
  }

  /**
   * The current plan for a change recorded as its next version (an approval, a summons, a consent …):
   * `If-Match` is optional there, as the change is made on whatever version is current, but when it is
   * given it must name that version (412 otherwise), so a client can make sure of what it changes.
   */
  async function editable(request: Request, caller: Caller, subject: AuditSubject): Promise<{ stored: StoredPlan; role?: AccessRole; admission: Admission }> {
    const found = await admitted(String(request.params.id), caller, subject);
    const { stored } = found;
    const header = request.headers['if-match'];
    if (header === undefined) return found;
    const expected = ifMatchVersion(header);
    if (expected === undefined) throw new HttpError(400, 'Bad Request', `If-Match must be an ETag such as ${etagOf(stored.version)}; got ${header}`);
    if (expected !== stored.version) throw new VersionConflictError(stored.plan.id, expected, stored.version);
    return found;
  }

  /**
   * The current plan for an answer that carries it out: refused with 403 naming the rule when its
   * consent does not allow sending it now (a consent withdrawn or expired since it was recorded).
   * Writes are still taken (a withdrawal, a closure), so the plan can be brought in order.
   */
  async function sendable(planId: string, caller: Caller, subject: { planId?: string; person?: string }): Promise<{ stored: StoredPlan; role?: AccessRole }> {
    const found = await admitted(planId, caller, subject);
    const refusal = sendRefusal(found.stored.plan, clock());
    if (refusal !== undefined) throw refusal;
    return found;
  }

  /**
   * Records `next` as the version after `stored`, after the SIP rules, with the call's success entry
   * (answered `status`) in the version's transaction, and answers it as the caller, admitted as
   * `role`, reads it (src/http/narrowing.ts).
   */
  async function record(stored: StoredPlan, next: SipPlan, caller: Caller, response: Response, versionAudit: VersionAudit, status = 200, role?: AccessRole): Promise<void> {
    // The rules run once for the version recorded: its problems and its send basis together.
    const { problems, basis } = checkPlanWithBasis(next);
    rejectProblems(problems, `Version ${String(next.version)}`);
    const saved = await versionAudit.recording(status, (audit) => store.update(next, stored.version, caller.organization, planResourceIds(next), { ...versionWrite(next, basis, caller.organization), audit }));
    // The answer carries the plan only while it may be sent: after a withdrawal it tells what was recorded, not the plan.
    const at = clock();
    const read = narrowedRead(saved, role, at);
    const refusal = read instanceof HttpError ? read : sendRefusal(read.plan, at);
    const { plan: _withheld, ...recorded } = planBody(saved, problems);
    if (read instanceof HttpError || refusal !== undefined) {
      response
        .status(status)
        .setHeader('ETag', etagOf(saved.version))
        .json({ ...recorded, planId: saved.plan.id, withheld: (read instanceof HttpError ? read : refusal)?.detail });
      return;
    }
    // The warnings of the plan as recorded point into the whole plan; an other actor gets those of what it reads.
    response
      .status(status)
      .setHeader('ETag', etagOf(saved.version))
      .json(planBody(read, read === saved ? problems : checkPlan(read.plan)));
  }

  /** The version after `plan`, recorded now: approvals and closures are recorded as versions too. */
  const nextVersion = (plan: SipPlan, at: Date): SipPlan => ({ ...plan, version: plan.version + 1, updatedAt: at.toISOString() });

  router.post(
    '/plans',
    route('create', async (request, response, caller, subject, versionAudit) => {
      const plan = planFrom(request.body);
      subject.planId = plan.id;
      subject.person = plan.individual.identifier.value;
      if (plan.version !== 1) throw new HttpError(422, 'Unprocessable Content', `A new plan is version 1; this one says ${String(plan.version)}`);
      const access = dependencies.mayAccess(plan, caller, clock());
      if (!access.allowed) throw new HttpError(403, 'Forbidden', `Organisation ${caller.organization} may not record this plan: ${access.reason}`);
      assertMayCreate(plan, access, caller.organization);
      const { problems, basis } = checkPlanWithBasis(plan);
      rejectProblems(problems, 'The plan');
      const saved = await versionAudit.recording(201, (audit) => store.create(plan, caller.organization, planResourceIds(plan), { ...versionWrite(plan, basis, caller.organization), audit }));
      response.status(201).setHeader('Location', `${request.baseUrl}/plans/${encodeURIComponent(plan.id)}`).setHeader('ETag', etagOf(saved.version)).json(planBody(saved, problems));
    }),
  );

  router.get(
    '/plans',
    route('search', async (request, response, caller) => {
      const query = planSearchQuerySchema.safeParse(request.query);
      if (!query.success) {
        throw new HttpError(400, 'Bad Request', query.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '));
      }
      const { person, status, principal, followUpDueBy, consentEndsBy, overdue, limit, offset } = query.data;
      const search: PlanSearch = {
        ...(person === undefined ? {} : { personIdentifier: searchedPerson(person) }),
        ...(status === undefined ? {} : { status }),
        ...(principal === undefined ? {} : { principal }),
        ...(followUpDueBy === undefined ? {} : { followUpDueBy }),
        ...(consentEndsBy === undefined ? {} : { consentEndsBy }),
        ...(overdue === 'true' ? { overdueAt: clock() } : {}),
        limit,
        offset,
        // Each plan's send basis, so only the rules that read the instant run for it (derived-view.ts).
        derived: { deriver: currentDeriver() },
        // The answer counts the plans the caller may see, not every match: no total is asked of the store.
        total: false,
      };
      const found = await store.search(search);
      const at = clock();
      // Access, and whether the plan may be sent now, are judged per plan after the page is read, so a
      // page may hold fewer than `limit` plans; the total of plans the caller may not see is not told.
      // An other actor finds each plan as it reads it (src/http/narrowing.ts).
      const visible = found.plans.flatMap((stored): StoredPlan[] => {
        const access = dependencies.mayAccess(judgingPlanOf(stored), caller, at);
        if (!access.allowed) return [];
        const read = narrowedRead(stored, access.role, at);
        return read instanceof HttpError || storedSendRefusal(read, at) !== undefined ? [] : [read];
      });
      // response.json of { count, offset, limit, plans }, each plan's body spliced from its stored text where there is one.
      const plans = visible.map((stored) => planBodyText(stored) ?? JSON.stringify(planBody(stored)));
      sendJsonText(response, `${JSON.stringify({ count: visible.length, offset, limit }).slice(0, -1)},"plans":[${plans.join(',')}]}`);
    }),
  );

  router.get(
    '/plans/:id',
    route('read', async (request, response, caller, subject) => {
      // With the version's send basis (src/http/derived-view.ts), when it was kept: judgeSend now and
      // the version's own warnings (checkPlan at its recording), the rules that do not depend on the
      // instant not run at all, the others at both instants (judgeSendAndRecordedWith).
      // An other actor reads the plan narrowed (src/http/narrowing.ts), judged and mapped without the whole plan's basis.
      const at = clock();
      const { stored: whole, role } = await admitted(String(request.params.id), caller, subject, { derived: { deriver: currentDeriver() } });
      const stored = asRead(whole, role, at);
      const { send, recorded } = storedSendAndRecorded(stored, at);
      const refusal = refusalOf(judgingPlanOf(stored), send);
      if (refusal !== undefined) throw refusal;
      response.setHeader('ETag', etagOf(stored.version));
      sendPlanBody(response, stored, recorded.filter((problem) => problem.severity === 'warning'));
    }),
  );

  router.put(
    '/plans/:id',
    route('update', async (request, response, caller, subject, versionAudit) => {
      const at = clock();
      const { stored, role, admission } = await admitted(String(request.params.id), caller, subject);
      const header = request.headers['if-match'];
      const expected = ifMatchVersion(header);
      if (header === undefined) throw new HttpError(428, 'Precondition Required', `Name the version you edit in If-Match (the ETag you read, ${etagOf(stored.version)})`);
      if (expected === undefined) throw new HttpError(400, 'Bad Request', `If-Match must be an ETag such as ${etagOf(stored.version)}; got ${header}`);
      if (expected !== stored.version) throw new VersionConflictError(stored.plan.id, expected, stored.version);
      const edited = planFrom(request.body);
      if (edited.id !== stored.plan.id) throw new HttpError(422, 'Unprocessable Content', `The body is plan "${edited.id}", not "${stored.plan.id}"`);
      assertMayReplaceWhole(stored.plan, edited, admission, caller.organization, at);
      await record(stored, revisePlan(stored.plan, edited, { at }), caller, response, versionAudit, 200, role);
    }),
  );

  router.get(
    '/plans/:id/_history',
    route('read', async (request, response, caller, subject) => {
      const { stored: latest, role } = await sendable(String(request.params.id), caller, subject);
      const versions = await store.history(String(request.params.id));
      // An other actor reads each version narrowed, by its own exclusions and the current version's; one it may not be sent so is left out.
      const at = clock();
      const read = versions.flatMap((stored): StoredPlan[] => {
        const narrowed = narrowedRead(stored, role, at, latest.plan);
        return narrowed instanceof HttpError || (narrowed !== stored && storedSendRefusal(narrowed, at) !== undefined) ? [] : [narrowed];
      });
      response.json({ versions: read.map((stored) => planBody(stored)) });
    }),
  );

  router.get(
    '/plans/:id/_history/:version',
    route('read', async (request, response, caller, subject) => {
      const { stored: latest, role } = await sendable(String(request.params.id), caller, subject);
      const version = Number(request.params.version);
      const found = Number.isInteger(version) ? await store.get(String(request.params.id), version) : undefined;
      if (found === undefined) throw new HttpError(404, 'Not Found', `Plan "${String(request.params.id)}" has no version ${String(request.params.version)}`);
      const at = clock();
      const stored = asRead(found, role, at, latest.plan);
      if (stored !== found) {
        const refusal = storedSendRefusal(stored, at);
        if (refusal !== undefined) throw refusal;
      }
      response.setHeader('ETag', etagOf(stored.version)).json(planBody(stored));
    }),
  );

  /**
   * A route that records a change of the process as the next version of the plan: the stored plan
   * (If-Match checked when given), the body parsed by its schema, the transition at the server's clock.
   */
  const change = <T>(
    schema: z.ZodType<T>,
    apply: (plan: SipPlan, body: T, params: Readonly<Record<string, string>>, at: Date) => SipPlan,
    status = 201,
    /** The act, when it is one only some parties may record (src/http/reserved-acts.ts). */
    reserved?: (body: T, params: Readonly<Record<string, string>>) => ReservedAct,
  ) =>
    route('update', async (request, response, caller, subject, versionAudit) => {
      const { stored, role, admission } = await editable(request, caller, subject);
      const body = bodyOf(schema, request.body);
      const params = Object.fromEntries(Object.entries(request.params).map(([name, value]) => [name, String(value)]));
      if (reserved !== undefined) assertMayAct(stored.plan, admission, reserved(body, params), caller.organization);
      await record(stored, apply(stored.plan, body, params, clock()), caller, response, versionAudit, status, role);
    });

  // The approval names the version it approves and the digest of its part; it is recorded as the next version.
  router.post(
    '/plans/:id/approvals',
    change(
      approvalRequestSchema,
      (plan, { principal, approvedBy }, _params, at) => nextVersion(approvePlan(plan, { principal, approvedBy, at }), at),
      201,
      ({ principal }) => ({ kind: 'approve', principal }),
    ),
  );
  router.post('/plans/:id/consents/:consentId/withdrawal', change(withdrawalRequestSchema, (plan, withdrawal, params, at) => withdrawConsent(plan, { consentId: params.consentId ?? '', ...withdrawal, at })));
  router.post('/plans/:id/closure', change(closureRequestSchema, (plan, closure, _params, at) => closePlan(plan, { ...closure, at }), 201, () => ({ kind: 'close' })));
  router.post('/plans/:id/consents', change(consentRequestSchema, (plan, consent, _params, at) => recordConsent(plan, consent, { at }), 201, () => ({ kind: 'recordConsent' })));
  router.post('/plans/:id/meetings', change(meetingRequestSchema, (plan, meeting, _params, at) => addMeeting(plan, meeting, { at })));
  router.post('/plans/:id/meetings/:meetingId/summons', change(summonsRequestSchema, (plan, summons, params, at) => summonMeeting(plan, params.meetingId ?? '', summons, { at })));
  router.put(
    '/plans/:id/meetings/:meetingId/invitees/:party/response',
    change(
      summonsAnswerRequestSchema,
      (plan, answer, params, at) => answerSummons(plan, params.meetingId ?? '', params.party ?? '', answer, { at }),
      200,
      (_answer, params) => ({ kind: 'answer', party: params.party ?? '' }),
    ),
  );
  router.put(
    '/plans/:id/meetings/:meetingId/status',
    change(meetingOutcomeRequestSchema, (plan, outcome, params, at) => recordMeetingOutcome(plan, params.meetingId ?? '', outcome, { at }), 200),
  );

  return router;
}
