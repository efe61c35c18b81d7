/**
 * Changes to a plan as the SIP process makes them. Each returns a new plan and leaves its input
 * untouched; each refuses, with a `SipRuleError`, what a rule forbids.
 *
 * - `revisePlan`: a new version; an edit of an approved part withdraws that part's approval (seed 000:
 *   each principal approves its own part; the traffic light falls back when a part changes).
 * - `approvePlan`: a principal's approval of the current version, with the digest of the part it
 *   approves (src/sip/approval-digest.ts); refused unless the plan states the five required elements
 *   (seed 001 §4.5). An approval is a signature on a version, not an edit: it does not make a new
 *   version.
 * - `withdrawConsent`: records the withdrawal; when no consent remains in force the plan is closed with
 *   reason `consentWithdrawn` (seed 001 §4.2, §4.7).
 * - `closePlan`: closure needs a reason; a closed plan is read-only.
 *
 * The meeting, its summons and the answers, and a new consent, are in ./meeting-transitions.ts.
 */
import { approvalDigest, principalsWithEditedParts } from './approval-digest.js';
import { consentsInForce } from './consent-status.js';
import { isClosed } from './lifecycle.js';
import type { Closure, SipPlan } from './model/index.js';
import { SipRuleError, type Problem } from './problem.js';
import { checkPlan, RULES } from './rules/index.js';

/** Refuses a change with the problem `code` names (with the rule's source when it is a rule). */
export function refuse(code: string, message: string, pointer = ''): never {
  const rule = RULES.find((candidate) => candidate.code === code);
  throw new SipRuleError([{ code, severity: 'error', message, pointer, ...(rule ? { source: rule.source } : {}) }]);
}

/** Refuses any change of a closed plan (`plan.closed-read-only`). */
export function assertOpen(plan: SipPlan): void {
  if (isClosed(plan)) refuse('plan.closed-read-only', `Plan "${plan.id}" was closed at ${plan.closure?.closedAt ?? ''} and is read-only`, '/closure');
}

export interface ChangeContext {
  /** When the change is recorded. */
  readonly at: Date;
}

/**
 * Records an edited plan as the next version. The edit's own `version`, `updatedAt`, `approvals` and
 * `closure` are ignored: approvals and closure change only through their own transitions.
 */
export function revisePlan(current: SipPlan, edited: SipPlan, { at }: ChangeContext): SipPlan {
  assertOpen(current);
  const edits = principalsWithEditedParts(current, edited);
  const approvals = current.approvals.map((approval) =>
    approval.withdrawn === undefined && edits.has(approval.principal)
      ? { ...approval, withdrawn: { at: at.toISOString(), reason: 'editedAfterApproval' as const } }
      : approval,
  );
  const next: SipPlan = { ...edited, approvals, version: current.version + 1, updatedAt: at.toISOString() };
  delete next.closure;
  return next;
}

/** Rules a plan must meet before a principal may approve it: every completeness rule, both principals, and the approval's own. */
const APPROVAL_RULES = RULES.filter(
  (rule) => rule.kind === 'completeness' || rule.code === 'plan.missing-principal' || rule.code.startsWith('approval.'),
);

/** A principal approves the current version of the plan. */
export function approvePlan(plan: SipPlan, approval: { principal: string; approvedBy: string; at: Date }): SipPlan {
  assertOpen(plan);
  if (!plan.principals.some((principal) => principal.id === approval.principal)) {
    refuse('plan.unresolved-reference', `"${approval.principal}" is not a principal of this plan`);
  }
  const approved: SipPlan = {
    ...plan,
    approvals: [
      ...plan.approvals,
      {
        principal: approval.principal,
        version: plan.version,
        approvedAt: approval.at.toISOString(),
        approvedBy: approval.approvedBy,
        digest: approvalDigest(plan, approval.principal),
      },
    ],
  };
  const problems: Problem[] = checkPlan(approved, { rules: APPROVAL_RULES }).filter((problem) => problem.severity === 'error');
  if (problems.length > 0) throw new SipRuleError(problems);
  return approved;
}

/** Records a withdrawal of consent; closes the plan when no consent remains in force. */
export function withdrawConsent(
  plan: SipPlan,
  withdrawal: { consentId: string; withdrawnBy: string; recordedBy: string; at: Date; note?: string },
): SipPlan {
  assertOpen(plan);
  const position = plan.consents.findIndex((consent) => consent.id === withdrawal.consentId);
  if (position < 0) refuse('plan.unresolved-reference', `"${withdrawal.consentId}" is not a consent of this plan`);
  const at = withdrawal.at.toISOString();
  const consents = plan.consents.map((consent, i) =>
    i === position
      ? {
          ...consent,
          withdrawal: {
            withdrawnAt: at,
            withdrawnBy: withdrawal.withdrawnBy,
            recordedBy: withdrawal.recordedBy,
            ...(withdrawal.note === undefined ? {} : { note: withdrawal.note }),
          },
        }
      : consent,
  );
  const next: SipPlan = { ...plan, consents, version: plan.version + 1, updatedAt: at };
  if (consentsInForce(next, withdrawal.at).length > 0) return next;
  const closure: Closure = { reason: 'consentWithdrawn', closedAt: at, closedBy: withdrawal.recordedBy, informed: [] };
  return { ...next, closure };
}

/** Closes the plan; a reason is required and the closed plan is read-only from then on. */
export function closePlan(plan: SipPlan, closure: Omit<Closure, 'closedAt'> & { at: Date }): SipPlan {
  assertOpen(plan);
  if (closure.reason === undefined) refuse('closure.missing-reason', 'A plan is closed with a reason: goalsMet, needNoLongerExists, consentWithdrawn or other', '/closure/reason');
  const { at, ...rest } = closure;
  return { ...plan, closure: { ...rest, closedAt: at.toISOString() }, version: plan.version + 1, updatedAt: at.toISOString() };
}

