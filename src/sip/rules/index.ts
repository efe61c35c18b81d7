/**
 * The SIP rule set and the function that applies it. docs/rules.md lists the same rules; a test
 * keeps the two in step.
 */
import { parseDate, stockholmDate } from '../dates.js';
import { parseIdentityNumber, type CalendarDate } from '../identifiers.js';
import type { SipPlan } from '../model/index.js';
import { indexPlan } from '../plan-index.js';
import type { Problem } from '../problem.js';
import * as consent from './consent-rules.js';
import * as discharge from './discharge-rules.js';
import * as integrity from './integrity-rules.js';
import * as meeting from './meeting-rules.js';
import * as planRules from './plan-rules.js';
import type { Rule, RuleContext } from './rule.js';

export type { Rule, RuleContext, Finding } from './rule.js';
export { SOURCE_DOCUMENTS } from './rule.js';

export const RULES: readonly Rule[] = [
  integrity.duplicateId,
  integrity.unresolvedReference,
  integrity.birthDateMismatch,
  integrity.birthDateUnknown,
  integrity.protectedIdentityContact,
  planRules.missingPrincipal,
  planRules.singlePrincipal,
  discharge.compulsoryCareDischarge,
  consent.consentMissing,
  consent.consentExpired,
  consent.consentWithdrawnPlanOpen,
  consent.consentPeriodTooLong,
  consent.consentPeriodInvalid,
  consent.consentNotPlanSpecific,
  consent.consentNoCoveredActors,
  consent.consentGuardianMissing,
  consent.consentGiverNotEntitled,
  consent.consentUndocumented,
  meeting.summonsWithoutConsent,
  meeting.summonsInviteeNotCovered,
  meeting.summonsInviteeExcluded,
  meeting.meetingWithoutSummons,
  meeting.summonsIncomplete,
  meeting.summonsDeclinedWithoutSubstitute,
  meeting.summonsSchoolNotInvited,
  meeting.meetingRolesNotAppointed,
  planRules.missingGoals,
  planRules.missingInterventions,
  planRules.missingPrincipalInterventions,
  planRules.missingOthersActions,
  planRules.missingOverallResponsiblePrincipal,
  planRules.missingFollowUp,
  planRules.missingCoordinator,
  planRules.pendingDecisionIncomplete,
  planRules.approvalFutureVersion,
  planRules.approverNotOfPrincipal,
  planRules.closureMissingReason,
  planRules.closedReadOnly,
];

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
}

/** Applies every rule and returns all problems found, errors and warnings, in rule order. */
export function checkPlan(plan: SipPlan, options: CheckOptions = {}): Problem[] {
  const at = options.at ?? new Date(plan.updatedAt);
  const context: RuleContext = { plan, index: indexPlan(plan), at, today: stockholmDate(at), birthDate: birthDateOf(plan) };
  return (options.rules ?? RULES).flatMap((rule) =>
    [...rule.check(context)].map(
      (finding): Problem => ({ code: rule.code, severity: rule.severity, message: finding.message, pointer: finding.pointer, source: rule.source }),
    ),
  );
}
