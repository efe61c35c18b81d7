/**
 * The judging summary as the writer kept it before it was made lean (src/sip/plan-summary.ts at
 * `51c6127`, copied unchanged): its parties, person, consents and closure whole. Versions stored then
 * carry it under the same deriver, and a read judges them from it; the lean summary's tests hold both
 * to the same judgements as the whole plan.
 */
import type { SipPlan } from '../../src/sip/index.js';

export function formerJudgingSummaryOf(plan: SipPlan): SipPlan {
  return {
    id: plan.id,
    version: plan.version,
    updatedAt: plan.updatedAt,
    initiatedAt: plan.initiatedAt,
    initiatedBy: plan.initiatedBy,
    individual: plan.individual,
    relatedPersons: [],
    principals: plan.principals,
    otherActors: plan.otherActors,
    professionals: plan.professionals,
    consents: plan.consents,
    meetings: [],
    goals: [],
    interventions: [],
    noActionsByOthers: plan.noActionsByOthers,
    followUps: plan.followUps,
    approvals: [],
    ...(plan.closure === undefined ? {} : { closure: plan.closure }),
    deviations: [],
  };
}
