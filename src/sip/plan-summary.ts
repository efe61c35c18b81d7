/**
 * A plan version's *judging summary*: the plan with only what two judgements at the moment of a read
 * need — who may see it (src/http/auth/access.ts `mayAccess`) and the SIP rules that read the instant
 * (consent in force, overdue follow-ups …, run by `judgeSendWith` from the version's send basis). It is
 * kept beside the send basis when the version is written (migration 8, src/http/derived-view.ts), so a
 * read that answers a kept text parses ≈ 2 kB instead of the whole plan document (≈ 6.8 kB for the
 * bench's plan; the narrative-heavy parts — goals, interventions, meetings — are most of it).
 *
 * What is kept, and who reads it:
 * - `id`, `version`, `updatedAt` and `closure`: the consent rules (`isClosed`, plan-specific consents,
 *   the version's own instant), `follow-up.overdue`, the refusal's message;
 * - `individual`: the audit entry's person, the birth date a rule context carries;
 * - `principals` (with their units), `otherActors`, `professionals`: the parties an HSA-id is matched
 *   against, and the lineage professional → unit → principal that coverage and exclusion follow;
 * - `consents`: every consent, whole and in order (findings point into it by index);
 * - `followUps`: whole and in order, for `follow-up.overdue`.
 *
 * Every other array is empty and every other optional field absent. The summary is a `SipPlan` so the
 * same functions judge it, but it is **not the plan**: it is only for those two judgements, never for
 * an answer. Whether it judges as the whole plan does is held by a differential test over every example
 * and generated plans at many instants (test/sip/plan-summary.test.ts). A rule added later that reads
 * the instant and something dropped here would break that equality; {@link SUMMARY_RULES} names the
 * rules the summary was made for, and a read whose basis marks another rule as timed judges from the
 * whole plan (src/http/derived-view.ts).
 */
import type { SipPlan } from './model/index.js';

/**
 * The codes of the rules that read the instant and that the summary carries everything for. Raise
 * `DERIVATION_REVISION` (src/http/derived-view.ts) when the summary's form changes.
 */
export const SUMMARY_RULES: ReadonlySet<string> = new Set([
  'consent.missing',
  'consent.expired',
  'consent.withdrawn',
  'consent.principal-not-covered',
  'follow-up.overdue',
]);

/** The judging summary of a plan as `parsePlan` returns it. */
export function judgingSummaryOf(plan: SipPlan): SipPlan {
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
