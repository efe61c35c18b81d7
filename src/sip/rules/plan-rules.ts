/**
 * Rules for the plan itself: both principals, the five things a plan states before it is approved
 * (seed 001 §4.5), "i väntan på beslut" (§4.5.1), approval per principal and version (seed 000), and
 * closure (§4.7).
 */
import { approvalsInForce, isClosed } from '../lifecycle.js';
import type { SipPlan } from '../model/index.js';
import { principalOf, type PlanIndex } from '../plan-index.js';
import { toPointer } from '../problem.js';
import { defineRule, type RuleContext } from './rule.js';

const PRINCIPAL_NAMES = { municipality: 'the municipality (kommun)', region: "the region's health care (region)" } as const;

/** The principal responsible for each intervention, or undefined when someone else is. */
function responsiblePrincipals(plan: SipPlan, index: PlanIndex): (string | undefined)[] {
  return plan.interventions.map((intervention) =>
    intervention.responsible === 'individual' ? undefined : principalOf(index, intervention.responsible),
  );
}

export const missingPrincipal = defineRule({
  code: 'plan.missing-principal',
  severity: 'error',
  title: 'A SIP has both principals: the municipality and the region.',
  source: { document: 'seed-001', section: '§3 Vad är SIP?; §6.1 Huvudmän' },
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
  severity: 'error',
  title: 'A plan whose interventions all come from one principal is not a SIP.',
  source: { document: 'seed-001', section: '§3.6.2 När SIP inte ska genomföras; §3.3 Lag om SIP' },
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

/** The five required elements are checked once a principal has approved the plan and it is still open. */
function underApproval(context: RuleContext): boolean {
  return !isClosed(context.plan) && approvalsInForce(context.plan).length > 0;
}

const SECTION_ELEMENTS = '§4.5 Möte ("Av planen ska det framgå")';

export const missingGoals = defineRule({
  code: 'plan.missing-goals',
  severity: 'error',
  title: "An approved plan states the person's goals (element 1).",
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 1` },
  *check(context) {
    if (underApproval(context) && !context.plan.goals.some((goal) => goal.status !== 'cancelled')) {
      yield { pointer: '/goals', message: 'The plan is approved but states no goal of the person' };
    }
  },
});

export const missingInterventions = defineRule({
  code: 'plan.missing-interventions',
  severity: 'error',
  title: 'An approved plan states the interventions needed to reach the goals (element 1).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 1` },
  *check(context) {
    if (underApproval(context) && context.plan.interventions.length === 0) {
      yield { pointer: '/interventions', message: 'The plan is approved but states no intervention' };
    }
  },
});

export const missingPrincipalInterventions = defineRule({
  code: 'plan.missing-principal-interventions',
  severity: 'error',
  title: 'An approved plan states which interventions each principal is responsible for (element 2).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 2` },
  *check(context) {
    if (!underApproval(context) || context.plan.interventions.length === 0) return;
    const responsible = new Set(responsiblePrincipals(context.plan, context.index));
    for (const [i, principal] of context.plan.principals.entries()) {
      if (!responsible.has(principal.id)) {
        yield { pointer: toPointer(['principals', i]), message: `The plan states no intervention that principal "${principal.id}" (${principal.name}) is responsible for` };
      }
    }
  },
});

export const missingOthersActions = defineRule({
  code: 'plan.missing-others-actions',
  severity: 'error',
  title: 'An approved plan states what others than the principals do, or says that no one else acts (element 3).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 3; seed-002 "Möts!"` },
  *check(context) {
    if (!underApproval(context) || context.plan.noActionsByOthers) return;
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
  severity: 'error',
  title: 'An approved plan states which principal holds overall responsibility for it (element 4).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 4; seed-000 "Av planen ska framgå"` },
  *check(context) {
    if (underApproval(context) && context.plan.overallResponsiblePrincipal === undefined) {
      yield { pointer: '/overallResponsiblePrincipal', message: 'The plan is approved but does not say which principal holds overall responsibility' };
    }
  },
});

export const missingFollowUp = defineRule({
  code: 'plan.missing-follow-up',
  severity: 'error',
  title: 'An approved plan states when it will be followed up (element 5).',
  source: { document: 'seed-001', section: `${SECTION_ELEMENTS}, point 5; §4.6 Uppföljning` },
  *check(context) {
    if (underApproval(context) && !context.plan.followUps.some((followUp) => followUp.heldAt === undefined)) {
      yield { pointer: '/followUps', message: 'The plan is approved but has no coming follow-up date' };
    }
  },
});

export const missingCoordinator = defineRule({
  code: 'plan.missing-coordinator',
  severity: 'error',
  title: 'An approved plan names the coordinator (huvudansvarig) responsible for the SIP process and its follow-up.',
  source: { document: 'seed-001', section: '§4.5 Möte ("utse huvudansvarig"); §4.6; seed-003 "Samordnare"' },
  *check(context) {
    if (underApproval(context) && context.plan.coordinator === undefined) {
      yield { pointer: '/coordinator', message: 'The plan is approved but names no coordinator (huvudansvarig)' };
    }
  },
});

export const pendingDecisionIncomplete = defineRule({
  code: 'intervention.pending-decision-incomplete',
  severity: 'error',
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
  severity: 'error',
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
  severity: 'error',
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
  severity: 'error',
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
  severity: 'error',
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
