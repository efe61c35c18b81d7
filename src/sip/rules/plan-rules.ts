/**
 * Rules for the plan itself: both principals, the five things a plan states before it is approved
 * (seed 001 §4.5), "i väntan på beslut" (§4.5.1), approval per principal and version (seed 000), and
 * closure (§4.7).
 */
import { formatDate, stockholmDate } from '../dates.js';
import { SIP_LAW_CITATION } from '../law.js';
import { overdueFollowUps } from '../lifecycle.js';
import type { SipPlan } from '../model/index.js';
import { principalOf, type PlanIndex } from '../plan-index.js';
import { toPointer } from '../problem.js';
import { defineRule } from './rule.js';

const PRINCIPAL_NAMES = { municipality: 'the municipality (kommun)', region: "the region's health care (region)" } as const;

/** The principal responsible for each intervention, or undefined when someone else is. */
function responsiblePrincipals(plan: SipPlan, index: PlanIndex): (string | undefined)[] {
  return plan.interventions.map((intervention) =>
    intervention.responsible === 'individual' ? undefined : principalOf(index, intervention.responsible),
  );
}

export const missingPrincipal = defineRule({
  code: 'plan.missing-principal',
  kind: 'integrity',
  title: 'A SIP has both principals: the municipality and the region.',
  source: { document: 'seed-001', section: `§3 Vad är SIP?; §6.1 Huvudmän; ${SIP_LAW_CITATION}` },
  *check({ plan }) {
    for (const kind of ['municipality', 'region'] as const) {
      if (!plan.principals.some((principal) => principal.kind === kind)) {
        yield { pointer: '/principals', message: `The plan has no principal of kind "${kind}"; a SIP involves ${PRINCIPAL_NAMES[kind]}` };
      }
    }
  },
});

export const singlePrincipal = defineRule({
  code: 'plan.single-principal',
  kind: 'completeness',
  title: 'A plan whose interventions all come from one principal is not a SIP.',
  source: { document: 'seed-001', section: `§3.6.2 När SIP inte ska genomföras; §3.3 Lag om SIP: ${SIP_LAW_CITATION}` },
  *check({ plan, index }) {
    const kinds = new Set(
      responsiblePrincipals(plan, index)
        .filter((id) => id !== undefined)
        .map((id) => plan.principals.find((principal) => principal.id === id)?.kind),
    );
    if (kinds.size === 1) {
      const [kind] = [...kinds];
      yield {
        pointer: '/interventions',
        message: `Every principal intervention comes from ${kind === undefined ? 'one principal' : PRINCIPAL_NAMES[kind]}; a SIP coordinates interventions from both the municipality and the region`,
      };
    }
  },
});

const SECTION_ELEMENTS = '§4.5 Möte ("Av planen ska det framgå")';

export const missingGoals = defineRule({
  code: 'plan.missing-goals',
  kind: 'completeness',
  title: "An approved plan states the person's goals (element 1).",
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 1` },
  *check(context) {
    if (!context.plan.goals.some((goal) => goal.status !== 'cancelled')) {
      yield { pointer: '/goals', message: 'The plan is approved but states no goal of the person' };
    }
  },
});

export const missingInterventions = defineRule({
  code: 'plan.missing-interventions',
  kind: 'completeness',
  title: 'An approved plan states the interventions needed to reach the goals (element 1).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 1` },
  *check(context) {
    if (context.plan.interventions.length === 0) {
      yield { pointer: '/interventions', message: 'The plan is approved but states no intervention' };
    }
  },
});

export const missingPrincipalInterventions = defineRule({
  code: 'plan.missing-principal-interventions',
  kind: 'completeness',
  title: 'An approved plan states which interventions each principal is responsible for (element 2).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 2` },
  *check(context) {
    if (context.plan.interventions.length === 0) return;
    const responsible = new Set(responsiblePrincipals(context.plan, context.index));
    const kinds = new Set(context.plan.principals.filter((principal) => responsible.has(principal.id)).map((principal) => principal.kind));
    for (const [i, principal] of context.plan.principals.entries()) {
      // A whole side without interventions is plan.single-principal's to report.
      if (kinds.size === 1 && !kinds.has(principal.kind)) continue;
      if (!responsible.has(principal.id)) {
        yield { pointer: toPointer(['principals', i]), message: `The plan states no intervention that principal "${principal.id}" (${principal.name}) is responsible for` };
      }
    }
  },
});

export const missingOthersActions = defineRule({
  code: 'plan.missing-others-actions',
  kind: 'completeness',
  title: 'An approved plan states what others than the principals do, or says that no one else acts (element 3).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 3; seed-002 "Möts!"` },
  *check(context) {
    if (context.plan.noActionsByOthers) return;
    const byOthers = responsiblePrincipals(context.plan, context.index).some((principal) => principal === undefined);
    if (!byOthers) {
      yield {
        pointer: '/interventions',
        message: 'The plan states no action by anyone but the principals; add them, or set noActionsByOthers to true to state that there are none',
      };
    }
  },
});

export const missingOverallResponsiblePrincipal = defineRule({
  code: 'plan.missing-overall-responsible-principal',
  kind: 'completeness',
  title: 'An approved plan states which principal holds overall responsibility for it (element 4).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 4; seed-000 "Av planen ska framgå"` },
  *check(context) {
    if (context.plan.overallResponsiblePrincipal === undefined) {
      yield { pointer: '/overallResponsiblePrincipal', message: 'The plan is approved but does not say which principal holds overall responsibility' };
    }
  },
});

export const missingFollowUp = defineRule({
  code: 'plan.missing-follow-up',
  kind: 'completeness',
  title: 'An approved plan states when it will be followed up (element 5).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 5; §4.6 Uppföljning` },
  *check(context) {
    if (!context.plan.followUps.some((followUp) => followUp.heldAt === undefined)) {
      yield { pointer: '/followUps', message: 'The plan is approved but has no coming follow-up date' };
    }
  },
});

export const missingCoordinator = defineRule({
  code: 'plan.missing-coordinator',
  kind: 'completeness',
  title: 'An approved plan names the coordinator (huvudansvarig) responsible for the SIP process and its follow-up.',
  source: { document: 'seed-001', section: '§4.5 Möte ("utse huvudansvarig"); §4.6; seed-003 "Samordnare"' },
  *check(context) {
    if (context.plan.coordinator === undefined) {
      yield { pointer: '/coordinator', message: 'The plan is approved but names no coordinator (huvudansvarig)' };
    }
  },
});

export const pendingDecisionIncomplete = defineRule({
  code: 'intervention.pending-decision-incomplete',
  kind: 'completeness',
  title: 'An intervention awaiting a decision states what happens meanwhile, when the decision is expected and when it is reported back.',
  source: { document: 'seed-001', section: '§4.5.1 I väntan på beslut' },
  *check({ plan }) {
    const required = [
      ['meanwhile', 'what happens meanwhile'],
      ['expectedDecisionDate', 'when the decision is expected'],
      ['reportBackBy', 'when the decision is reported back'],
    ] as const;
    for (const [i, intervention] of plan.interventions.entries()) {
      if (intervention.status !== 'awaitingDecision') continue;
      for (const [field, what] of required) {
        if (intervention.pendingDecision?.[field] === undefined) {
          yield {
            pointer: toPointer(['interventions', i, 'pendingDecision', ...(intervention.pendingDecision ? [field] : [])]),
            message: `The intervention awaits a decision but does not say ${what} (pendingDecision.${field})`,
          };
        }
      }
    }
  },
});

export const approvalFutureVersion = defineRule({
  code: 'approval.future-version',
  kind: 'integrity',
  title: 'An approval names a version of the plan that exists.',
  source: { document: 'seed-000', section: '"Dokumentation i Mina Planer" (each principal approves its part)' },
  *check({ plan }) {
    for (const [i, approval] of plan.approvals.entries()) {
      if (approval.version > plan.version) {
        yield { pointer: toPointer(['approvals', i, 'version']), message: `The approval is for version ${approval.version}, but the plan is at version ${plan.version}` };
      }
    }
  },
});

export const approverNotOfPrincipal = defineRule({
  code: 'approval.approver-not-of-principal',
  kind: 'integrity',
  title: "Each principal approves its own part: the approver acts for the principal whose approval it is.",
  source: { document: 'seed-000', section: '"Dokumentation i Mina Planer" (primärvårdens del, kommunens del)' },
  *check({ plan, index }) {
    for (const [i, approval] of plan.approvals.entries()) {
      const approverPrincipal = principalOf(index, approval.approvedBy);
      if (index.entities.get(approval.approvedBy) !== undefined && approverPrincipal !== approval.principal) {
        yield {
          pointer: toPointer(['approvals', i, 'approvedBy']),
          message: `"${approval.approvedBy}" does not act for principal "${approval.principal}"${approverPrincipal === undefined ? '' : ` (it acts for "${approverPrincipal}")`}`,
        };
      }
    }
  },
});

export const closureMissingReason = defineRule({
  code: 'closure.missing-reason',
  kind: 'integrity',
  title: 'A closed plan says why: goals met, no further need, consent withdrawn, or another stated reason.',
  source: { document: 'seed-001', section: '§4.7 Avslutning' },
  *check({ plan }) {
    if (plan.closure && plan.closure.reason === undefined) {
      yield { pointer: '/closure/reason', message: 'The plan is closed without a reason (goalsMet, needNoLongerExists, consentWithdrawn or other)' };
    } else if (plan.closure?.reason === 'other' && plan.closure.reasonText === undefined) {
      yield { pointer: '/closure/reasonText', message: 'The plan is closed for reason "other" without saying what it is (reasonText)' };
    }
  },
});

export const closedReadOnly = defineRule({
  code: 'plan.closed-read-only',
  kind: 'integrity',
  title: 'A closed plan is read-only: no version is recorded after the one that closed it.',
  source: { document: 'seed-001', section: '§4.7 Avslutning ("viktigt … att veta när planen inte längre gäller")' },
  *check({ plan }) {
    if (plan.closure && Date.parse(plan.updatedAt) > Date.parse(plan.closure.closedAt)) {
      yield {
        pointer: '/updatedAt',
        message: `Version ${plan.version} was recorded at ${plan.updatedAt}, after the plan was closed at ${plan.closure.closedAt}`,
      };
    }
  },
});

export const pendingDecisionDates = defineRule({
  code: 'intervention.pending-decision-dates',
  kind: 'integrity',
  title: 'An intervention awaiting a decision has its dates in order: the decision is expected no later than it is reported back.',
  source: { document: 'seed-001', section: '§4.5.1 I väntan på beslut ("hur tiden fram till beslut ser ut samt när beslut ska återkopplas")' },
  *check({ plan }) {
    for (const [i, intervention] of plan.interventions.entries()) {
      const { expectedDecisionDate, reportBackBy } = intervention.pendingDecision ?? {};
      if (expectedDecisionDate !== undefined && reportBackBy !== undefined && reportBackBy < expectedDecisionDate) {
        yield {
          pointer: toPointer(['interventions', i, 'pendingDecision', 'reportBackBy']),
          message: `The decision is to be reported back by ${reportBackBy}, before it is expected on ${expectedDecisionDate}`,
        };
      }
    }
  },
});

const SECTION_FOLLOW_UP = '§4.6 Uppföljning av SIP ("SIP-möten ska alltid följas upp")';

export const followUpOverdue = defineRule({
  code: 'follow-up.overdue',
  kind: 'history',
  reportDeviation: true,
  title: 'An open plan is followed up by the date it set: a follow-up date that has passed without a follow-up is reported.',
  source: { document: 'seed-001', section: `${SECTION_FOLLOW_UP}; §5.2 Avvikelser` },
  *check({ plan, at, today }) {
    for (const { followUp, index } of overdueFollowUps(plan, at)) {
      yield {
        pointer: toPointer(['followUps', index, 'date']),
        message: `The follow-up planned for ${followUp.date} has not been held by ${formatDate(today)}`,
      };
    }
  },
});

export const followUpHeldLate = defineRule({
  code: 'follow-up.held-late',
  kind: 'history',
  title: 'A follow-up is held by the date the plan set for it.',
  source: { document: 'seed-001', section: SECTION_FOLLOW_UP },
  *check({ plan }) {
    for (const [i, followUp] of plan.followUps.entries()) {
      const start = plan.meetings.find((meeting) => meeting.id === followUp.heldAt)?.summons?.start;
      if (start === undefined) continue;
      const held = formatDate(stockholmDate(new Date(start)));
      if (held > followUp.date) {
        yield { pointer: toPointer(['followUps', i, 'heldAt']), message: `The follow-up planned for ${followUp.date} was held on ${held}, after its date` };
      }
    }
  },
});

export const followUpHeldAtNotHeld = defineRule({
  code: 'follow-up.held-at-not-held',
  kind: 'integrity',
  title: 'A follow-up recorded as held names the follow-up meeting that held it, and that meeting was held.',
  source: { document: 'seed-001', section: '§4.6 Uppföljning av SIP ("Den som utsetts som huvudansvarig … ansvarar för att genomföra uppföljningsmötet")' },
  *check({ plan }) {
    for (const [i, followUp] of plan.followUps.entries()) {
      const meeting = plan.meetings.find((candidate) => candidate.id === followUp.heldAt);
      if (meeting === undefined) continue; // no heldAt, or reported by plan.unresolved-reference
      if (meeting.kind !== 'followUp' || meeting.status !== 'held') {
        yield {
          pointer: toPointer(['followUps', i, 'heldAt']),
          message: `Meeting "${meeting.id}" is a ${meeting.kind} meeting with status ${meeting.status}; a follow-up is held at a follow-up meeting that took place`,
        };
      }
    }
  },
});

const SECTION_CLOSURE = '§4.7 Avslutning';

export const closureConsentNotWithdrawn = defineRule({
  code: 'closure.consent-not-withdrawn',
  kind: 'integrity',
  title: 'A plan closed because the consent was withdrawn has a consent that was withdrawn by then.',
  source: { document: 'seed-001', section: `${SECTION_CLOSURE} ("eller när samtycke inte längre finns"); §4.2` },
  *check({ plan }) {
    if (plan.closure?.reason !== 'consentWithdrawn') return;
    const closedAt = Date.parse(plan.closure.closedAt);
    const withdrawn = plan.consents.some((consent) => consent.withdrawal !== undefined && Date.parse(consent.withdrawal.withdrawnAt) <= closedAt);
    if (!withdrawn) {
      yield {
        pointer: '/closure/reason',
        message: `The plan is closed because the consent was withdrawn, but no consent of the plan was withdrawn by ${plan.closure.closedAt}`,
      };
    }
  },
});

export const closureInformedMissing = defineRule({
  code: 'closure.informed-missing',
  kind: 'history',
  title: 'A closed plan names who was informed of the closure: the person, and someone of each principal.',
  source: { document: 'seed-001', section: `${SECTION_CLOSURE} ("ansvarar även för att informera alla om att SIP-processen är avslutad")` },
  *check({ plan, index }) {
    if (plan.closure === undefined) return;
    const { informed } = plan.closure;
    if (!informed.includes('individual')) {
      yield { pointer: '/closure/informed', message: 'The closure does not say that the person was informed of it' };
    }
    for (const principal of plan.principals) {
      if (!informed.some((party) => party !== 'individual' && principalOf(index, party) === principal.id)) {
        yield { pointer: '/closure/informed', message: `The closure names no one of principal "${principal.id}" (${principal.name}) as informed of it` };
      }
    }
  },
});

export const closureNotAtFollowUp = defineRule({
  code: 'closure.not-at-follow-up',
  kind: 'history',
  title: 'A plan closed because its goals were met or the need is gone is closed at its last follow-up, which was held.',
  source: { document: 'seed-001', section: `${SECTION_CLOSURE} ("När planen avslutas ska det förtydligas i den sista uppföljningsplanen")` },
  *check({ plan }) {
    if (plan.closure?.reason !== 'goalsMet' && plan.closure?.reason !== 'needNoLongerExists') return;
    const last = plan.followUps.reduce<{ date: string; heldAt?: string; index: number } | undefined>(
      (found, followUp, index) => (found === undefined || followUp.date >= found.date ? { ...followUp, index } : found),
      undefined,
    );
    if (last === undefined) {
      yield { pointer: '/followUps', message: 'The plan was closed without any follow-up; the closure is stated at the last follow-up' };
    } else if (last.heldAt === undefined) {
      yield {
        pointer: toPointer(['followUps', last.index]),
        message: `The plan was closed, but its last follow-up (${last.date}) was not held; the closure is stated at the last follow-up`,
      };
    }
  },
});

export const deviationInterimPrincipalMissing = defineRule({
  code: 'deviation.interim-principal-missing',
  kind: 'history',
  title: 'A deviation that is open or under investigation names the principal that holds responsibility meanwhile.',
  source: { document: 'seed-001', section: '§5.2 Avvikelser ("komma överens om en tillfällig ansvarsfördelning")' },
  *check({ plan }) {
    for (const [i, deviation] of plan.deviations.entries()) {
      if (deviation.status !== 'closed' && deviation.interimResponsiblePrincipal === undefined) {
        yield {
          pointer: toPointer(['deviations', i]),
          message: `Deviation "${deviation.id}" is ${deviation.status === 'open' ? 'open' : 'under investigation'} and names no principal holding responsibility meanwhile (interimResponsiblePrincipal)`,
        };
      }
    }
  },
});
