/**
 * The SIP rule set and the function that applies it. docs/rules.md lists the same rules; a test
 * keeps the two in step.
 */
import { parseDate, stockholmDate } from '../dates.js';
import { parseIdentityNumber, type CalendarDate } from '../identifiers.js';
import type { SipPlan } from '../model/index.js';
import { indexPlan, planIndexOf, type PlanIndex } from '../plan-index.js';
import type { Problem } from '../problem.js';
import * as consent from './consent-rules.js';
import * as decision from './decision-rules.js';
import * as discharge from './discharge-rules.js';
import * as integrity from './integrity-rules.js';
import * as meeting from './meeting-rules.js';
import * as planRules from './plan-rules.js';
import { DEVIATION_ADVICE, type Finding, type Rule, type RuleContext } from './rule.js';
import { approvalsInForce, isClosed } from '../lifecycle.js';

export type { Rule, RuleContext, Finding, RuleKind } from './rule.js';
export { SOURCE_DOCUMENTS, SEVERITY_OF_KIND, DEVIATION_ADVICE } from './rule.js';

export const RULES: readonly Rule[] = [
  integrity.duplicateId,
  integrity.reservedId,
  integrity.unresolvedReference,
  integrity.birthDateMismatch,
  integrity.birthDateUnknown,
  integrity.protectedIdentityContact,
  planRules.missingPrincipal,
  planRules.singlePrincipal,
  discharge.compulsoryCareDischarge,
  consent.consentMissing,
  consent.consentExpired,
  consent.consentWithdrawn,
  consent.consentPrincipalNotCovered,
  consent.consentPeriodTooLong,
  consent.consentPeriodInvalid,
  consent.consentNotPlanSpecific,
  consent.consentNoCoveredActors,
  consent.consentGuardianMissing,
  consent.consentGiverNotEntitled,
  consent.consentUndocumented,
  consent.consentChildViewMissing,
  meeting.summonsWithoutConsent,
  meeting.summonsInviteeNotCovered,
  meeting.summonsInviteeExcluded,
  meeting.meetingWithoutSummons,
  meeting.summonsIncomplete,
  meeting.summonsEndsBeforeStart,
  meeting.summonsSentAfterStart,
  meeting.summonsDeclinedWithoutSubstitute,
  meeting.summonsAnswerOutOfTime,
  meeting.summonsSchoolNotInvited,
  meeting.meetingRolesNotAppointed,
  meeting.meetingHeldBeforeStart,
  planRules.missingGoals,
  planRules.missingInterventions,
  planRules.missingPrincipalInterventions,
  planRules.missingOthersActions,
  planRules.missingOverallResponsiblePrincipal,
  planRules.missingFollowUp,
  planRules.missingCoordinator,
  planRules.pendingDecisionIncomplete,
  planRules.pendingDecisionDates,
  decision.refusedDecisionBacksIntervention,
  decision.decidedWhileAwaiting,
  decision.decidedAfterRecording,
  decision.formerActAfterChange,
  planRules.followUpOverdue,
  planRules.followUpHeldLate,
  planRules.followUpHeldAtNotHeld,
  planRules.approvalFutureVersion,
  planRules.approverNotOfPrincipal,
  planRules.closureMissingReason,
  planRules.closureConsentNotWithdrawn,
  planRules.closureInformedMissing,
  planRules.closureNotAtFollowUp,
  planRules.closedReadOnly,
  planRules.deviationInterimPrincipalMissing,
];

/** The rules that say no consent is in force at the instant judged: the ones that refuse a send. */
export const CONSENT_IN_FORCE_CODES: ReadonlySet<string> = new Set([consent.consentMissing.code, consent.consentExpired.code, consent.consentWithdrawn.code]);

/** The person's birth date: from the personnummer or samordningsnummer, else as written in the plan. */
export function birthDateOf(plan: SipPlan): CalendarDate | undefined {
  const { identifier, birthDate } = plan.individual;
  if (identifier.system !== 'reservnummer') {
    const parsed = parseIdentityNumber(identifier.value);
    if (parsed.ok) return parsed.birthDate;
  }
  return birthDate === undefined ? undefined : parseDate(birthDate);
}

export interface CheckOptions {
  /** The instant to judge the plan at; by default when its current version was recorded (`updatedAt`). */
  readonly at?: Date;
  /** Rules to apply; all of them by default. */
  readonly rules?: readonly Rule[];
  /**
   * Judge the plan as it is about to be sent: consent must be in force at `at` whatever the plan's
   * state, closed plans included. See {@link judgeSend}.
   */
  readonly sending?: boolean;
}

/**
 * Whether the plan's completeness rules apply: once a principal has approved it (an approval still in
 * force) and while it is open. Before that the plan is under preparation and may be incomplete.
 */
export function underApproval(plan: SipPlan): boolean {
  return !isClosed(plan) && approvalsInForce(plan).length > 0;
}

function problemOf(rule: Rule, finding: Finding): Problem {
  const message = rule.reportDeviation === true ? `${finding.message}; ${DEVIATION_ADVICE}` : finding.message;
  return {
    code: rule.code,
    severity: rule.severity,
    kind: rule.kind,
    message,
    pointer: finding.pointer,
    source: rule.source,
    ...(rule.reportDeviation === true ? { reportDeviation: true } : {}),
  };
}

/**
 * Applies the rules and returns all problems found, errors and warnings, in rule order. Completeness
 * rules are applied only to a plan under approval ({@link underApproval}).
 */
export function checkPlan(plan: SipPlan, options: CheckOptions = {}): Problem[] {
  const at = options.at ?? new Date(plan.updatedAt);
  const context: RuleContext = {
    plan,
    index: indexPlan(plan),
    at,
    sending: options.sending ?? false,
    today: stockholmDate(at),
    birthDate: birthDateOf(plan),
  };
  const complete = underApproval(plan);
  return (options.rules ?? RULES)
    .filter((rule) => rule.kind !== 'completeness' || complete)
    .flatMap((rule) => [...rule.check(context)].map((finding) => problemOf(rule, finding)));
}

/**
 * Judges a plan at the moment it is sent (every path out: `to-fhir`, and later the server and
 * delivery). Consent is judged at `at`, the moment the data leaves, not when the version was
 * recorded: a consent that has expired or been withdrawn since refuses the send with its rule code
 * (seed 001 §4.2: "Ett samtycke är tidsbegränsat … när som helst rätt att dra tillbaka"). The other
 * rules depend on the record alone and give the same answer at either instant.
 */
export function judgeSend(plan: SipPlan, at: Date): Problem[] {
  return checkPlan(plan, { at, sending: true });
}

/** What a read of a stored version answers: whether it may be sent now, and what was found in it as recorded. */
export interface SendAndRecordedJudgement {
  /** `judgeSend(plan, at)`. */
  readonly send: Problem[];
  /** `checkPlan(plan)`: the plan judged when its version was recorded, as a read reports its warnings. */
  readonly recorded: Problem[];
}

/**
 * The context of a rule run at the moment of sending `at`, watched: `instantRead` gets an entry
 * whenever a rule reads `at`, `today` or `sending`, so the caller can tell (after clearing it before
 * each rule) whether that rule's findings hold at any instant. A Set, not a boolean, because getters
 * set it behind the control flow a linter follows.
 */
function watchedSendingContext(plan: SipPlan, at: Date): { readonly context: RuleContext; readonly instantRead: Set<true> } {
  const context = new WatchedSendingContext(plan, at);
  return { context, instantRead: context.instantRead };
}

/**
 * A {@link RuleContext} as sending at `at`, whose `at`, `today` and `sending` note each reading in
 * `instantRead`. A class, its getters on the prototype: getters written in an object literal are made
 * anew for each context, and V8 keeps an accessor's functions in the object's hidden class, so each
 * context had a map of its own. Maps live in the old space, and each garbage one kept what its getters'
 * closures held (the plan) through the next scavenges, which promoted it (docs/performance.md,
 * "An accessor made per object").
 */
class WatchedSendingContext implements RuleContext {
  readonly instantRead = new Set<true>();
  readonly index: PlanIndex;
  readonly birthDate: CalendarDate | undefined;
  readonly #at: Date;
  readonly #today: CalendarDate;

  constructor(
    readonly plan: SipPlan,
    at: Date,
  ) {
    this.index = indexPlan(plan);
    this.birthDate = birthDateOf(plan);
    this.#at = at;
    this.#today = stockholmDate(at);
  }

  get at(): Date {
    this.instantRead.add(true);
    return this.#at;
  }

  get sending(): boolean {
    this.instantRead.add(true);
    return true;
  }

  get today(): CalendarDate {
    this.instantRead.add(true);
    return this.#today;
  }
}

/**
 * `judgeSend(plan, at)` and `checkPlan(plan)` at once, for a read that must judge the plan at the
 * moment it leaves and also report what the version was found to have when it was recorded.
 *
 * The two differ only in `at`, `today` and `sending`, and most rules read none of them. Each rule is
 * run at the moment of sending with those three fields watched; a rule that read none of them gave
 * what it would give at any instant (a rule is a pure function of its context), so its findings serve
 * both, and only a rule that read one (the consent-in-force rules, follow-up.overdue …) is run a
 * second time at the version's own instant. Which rules those are is found as they run, not listed,
 * so a rule added later that reads the instant is run twice without anyone remembering to say so.
 * Equal to the two calls by a property test (test/sip/rules-once.test.ts).
 */
export function judgeSendAndRecorded(plan: SipPlan, at: Date): SendAndRecordedJudgement {
  const recordedAt = new Date(plan.updatedAt);
  const { context: sending, instantRead } = watchedSendingContext(plan, at);
  let recordedContext: RuleContext | undefined;
  const complete = underApproval(plan);
  const send: Problem[] = [];
  const recorded: Problem[] = [];
  for (const rule of RULES) {
    if (rule.kind === 'completeness' && !complete) continue;
    instantRead.clear();
    const sendFindings = [...rule.check(sending)];
    send.push(...sendFindings.map((finding) => problemOf(rule, finding)));
    if (instantRead.size === 0) {
      recorded.push(...sendFindings.map((finding) => problemOf(rule, finding)));
      continue;
    }
    recordedContext ??= { plan, index: sending.index, birthDate: sending.birthDate, at: recordedAt, sending: false, today: stockholmDate(recordedAt) };
    recorded.push(...[...rule.check(recordedContext)].map((finding) => problemOf(rule, finding)));
  }
  return { send, recorded };
}

/**
 * What `judgeSend` finds in a plan that does not depend on the instant of sending, kept with a
 * stored version so a read runs only the rules that do (consent in force, overdue follow-ups …):
 * for each rule that ran, in rule order, either its findings (it read neither `at`, `today` nor
 * `sending`, so it gives them at any instant: a rule is a pure function of its context, and one that
 * did not read the instant took the same path whatever the instant) or `timed` (it read one, and is
 * run again at the moment of each send). Rules with no finding that did not read the instant are left
 * out. Only valid for the rule set that computed it: a store keys it by {@link RULE_SET_SIGNATURE}.
 */
export interface SendBasis {
  readonly rules: readonly SendBasisRule[];
}

/** One rule of a {@link SendBasis}: its code, and its findings or that it is judged at the instant. */
export type SendBasisRule = { readonly code: string; readonly timed: true } | { readonly code: string; readonly findings: readonly Finding[] };

/** The codes of the rules, in order: names the rule set a {@link SendBasis} was computed by. */
export const RULE_SET_SIGNATURE: string = RULES.map((rule) => `${rule.code}:${rule.kind}:${rule.reportDeviation === true ? 'd' : ''}`).join(',');

/** The {@link SendBasis} of a plan, computed once when its version is written. */
export function sendBasisOf(plan: SipPlan): SendBasis {
  // Any instant serves: only whether a rule reads it is kept, never what it found when it did.
  const { context: watching, instantRead } = watchedSendingContext(plan, new Date(plan.updatedAt));
  const complete = underApproval(plan);
  const rules: SendBasisRule[] = [];
  for (const rule of RULES) {
    if (rule.kind === 'completeness' && !complete) continue;
    instantRead.clear();
    const findings = [...rule.check(watching)].map(({ pointer, message }) => ({ pointer, message }));
    if (instantRead.size > 0) rules.push({ code: rule.code, timed: true });
    else if (findings.length > 0) rules.push({ code: rule.code, findings });
  }
  return { rules };
}

/** What a version about to be recorded is found to have, and its {@link SendBasis}: `checkPlan(plan)` and `sendBasisOf(plan)` at once. */
export interface CheckedWithBasis {
  /** `checkPlan(plan)`: every problem at the version's own instant (`updatedAt`), not as sending. */
  readonly problems: Problem[];
  /** `sendBasisOf(plan)`. */
  readonly basis: SendBasis;
}

/**
 * `checkPlan(plan)` and `sendBasisOf(plan)` in one pass over the rules, for a writer that checks the
 * version it records and keeps its basis beside it. Both see the same plan; they differ only in
 * the context's `at`, `today` and `sending`, and `sendBasisOf` runs each rule with those watched at
 * the version's own instant. A rule that read none of them found what it finds at any instant
 * (a rule is a pure function of its context), so its findings serve both; only a rule that read one
 * is run again as `checkPlan` runs it (at `updatedAt`, not sending), as {@link judgeSendAndRecorded}
 * does. Equal to the two calls (test/sip/send-basis.test.ts).
 */
export function checkPlanWithBasis(plan: SipPlan): CheckedWithBasis {
  const recordedAt = new Date(plan.updatedAt);
  const { context: watching, instantRead } = watchedSendingContext(plan, recordedAt);
  let recordedContext: RuleContext | undefined;
  const complete = underApproval(plan);
  const problems: Problem[] = [];
  const rules: SendBasisRule[] = [];
  for (const rule of RULES) {
    if (rule.kind === 'completeness' && !complete) continue;
    instantRead.clear();
    const findings = [...rule.check(watching)];
    if (instantRead.size === 0) {
      for (const finding of findings) problems.push(problemOf(rule, finding));
      if (findings.length > 0) rules.push({ code: rule.code, findings: findings.map(({ pointer, message }) => ({ pointer, message })) });
      continue;
    }
    rules.push({ code: rule.code, timed: true });
    recordedContext ??= { plan, index: watching.index, birthDate: watching.birthDate, at: recordedAt, sending: false, today: stockholmDate(recordedAt) };
    for (const finding of rule.check(recordedContext)) problems.push(problemOf(rule, finding));
  }
  return { problems, basis: { rules } };
}

/**
 * The context the timed rules of a read run in ({@link judgeSendWith}, {@link judgeSendAndRecordedWith}):
 * the person's birth date is worked out from the identity number only when a rule reads it. None of
 * the rules that read the instant does (the birth date decides who consents for a child, which does not
 * change with the moment of sending), and the personnummer's parse was a twelfth of what judging a kept
 * plan cost at every read and every plan a search walks (docs/performance.md, "Dates read digit by digit").
 * A class, its getter on the prototype, for the reason {@link WatchedSendingContext} gives.
 */
class JudgingContext implements RuleContext {
  #birthDate: { readonly value: CalendarDate | undefined } | undefined;

  constructor(
    readonly plan: SipPlan,
    readonly index: PlanIndex,
    readonly at: Date,
    readonly sending: boolean,
    readonly today: CalendarDate,
  ) {}

  get birthDate(): CalendarDate | undefined {
    this.#birthDate ??= { value: birthDateOf(this.plan) };
    return this.#birthDate.value;
  }
}

/**
 * Each entry of a basis with its rule of this rule set, in order; a RangeError for an entry naming a
 * rule this rule set does not have, or not in that order (a basis computed by another rule set).
 */
function* basisRules(basis: SendBasis): Generator<{ readonly rule: Rule; readonly entry: SendBasisRule }> {
  let next = 0;
  for (const entry of basis.rules) {
    while (next < RULES.length && RULES[next]?.code !== entry.code) next++;
    const rule = RULES[next];
    if (rule === undefined) throw new RangeError(`the send basis names rule ${entry.code}, which this rule set does not have (or not in that order)`);
    next++;
    yield { rule, entry };
  }
}

/**
 * {@link judgeSendAndRecorded} from the plan's {@link SendBasis}: the stored findings of the rules that
 * do not read the instant serve both (as they do there), and only the rules the basis marks `timed`
 * run, twice: at `at` as sending, and at the version's own instant (`updatedAt`) as recorded. A SIP
 * read thus runs the few rules that depend on the moment (consent in force, overdue follow-ups …)
 * instead of every rule. Equal to `judgeSendAndRecorded` (test/sip/send-basis.test.ts); a basis of
 * another rule set is a RangeError, as in {@link judgeSendWith}.
 */
export function judgeSendAndRecordedWith(plan: SipPlan, basis: SendBasis, at: Date): SendAndRecordedJudgement {
  const send: Problem[] = [];
  const recorded: Problem[] = [];
  let sendContext: RuleContext | undefined;
  let recordedContext: RuleContext | undefined;
  for (const { rule, entry } of basisRules(basis)) {
    if ('timed' in entry) {
      if (sendContext === undefined || recordedContext === undefined) {
        const index = planIndexOf(plan);
        const recordedAt = new Date(plan.updatedAt);
        sendContext = new JudgingContext(plan, index, at, true, stockholmDate(at));
        recordedContext = new JudgingContext(plan, index, recordedAt, false, stockholmDate(recordedAt));
      }
      for (const finding of rule.check(sendContext)) send.push(problemOf(rule, finding));
      for (const finding of rule.check(recordedContext)) recorded.push(problemOf(rule, finding));
    } else {
      for (const finding of entry.findings) {
        send.push(problemOf(rule, finding));
        recorded.push(problemOf(rule, finding));
      }
    }
  }
  return { send, recorded };
}

/**
 * `judgeSend(plan, at)` from the plan's {@link SendBasis}: the stored findings of the rules that do
 * not read the instant, and the others run at `at`. Equal to `judgeSend` (test/sip/send-basis.test.ts);
 * a basis naming a rule this rule set does not have is a RangeError (the caller computed it with
 * another rule set, which {@link RULE_SET_SIGNATURE} is there to prevent).
 */
export function judgeSendWith(plan: SipPlan, basis: SendBasis, at: Date): Problem[] {
  const problems: Problem[] = [];
  let context: RuleContext | undefined;
  for (const { rule, entry } of basisRules(basis)) {
    if ('timed' in entry) {
      // The index the read's access decision computed for the same plan (planIndexOf), not a second one.
      context ??= new JudgingContext(plan, planIndexOf(plan), at, true, stockholmDate(at));
      for (const finding of rule.check(context)) problems.push(problemOf(rule, finding));
    } else {
      for (const finding of entry.findings) problems.push(problemOf(rule, finding));
    }
  }
  return problems;
}
