/**
 * A plan version's *judging summary*: the plan with only what two judgements at the moment of a read
 * need — who may see it (src/http/auth/access.ts `mayAccess`) and the SIP rules that read the instant
 * (consent in force, overdue follow-ups …, run by `judgeSendWith` from the version's send basis). It is
 * kept beside the send basis when the version is written (migration 8, src/http/derived-view.ts), so a
 * read that answers a kept text parses ≈ 1.5 kB instead of the whole plan document (≈ 6.8 kB for the
 * bench's plan; the narrative-heavy parts — goals, interventions, meetings — are most of it).
 *
 * What is kept, and who reads it (each party, consent and person with only the members named here,
 * {@link JudgingSummary}; 1.3–1.7 kB for the examples, against 2.5–3.7 kB when they were kept whole, parsed in
 * about 0.4 of the time):
 * - `id`, `version`, `updatedAt`, `initiatedAt` and whether there is a `closure` (its `closedAt`): the
 *   consent rules (`isClosed`, plan-specific consents), `follow-up.overdue`, the refusal's message, a
 *   search's sort and its CarePlan period;
 * - `individual`'s `identifier` and `birthDate`: the audit entry's person, a search's Patient
 *   identifier, the birth date a rule context carries;
 * - `principals` (their ids, names, HSA-ids and organisationsnummer, their units' ids and HSA-ids),
 *   `otherActors` (ids, HSA-ids, organisationsnummer), `professionals` (ids, HSA-ids, organisations):
 *   the parties an HSA-id is matched against, the lineage professional → unit → principal that
 *   coverage and exclusion follow, and a principal's name in `consent.principal-not-covered`'s message;
 * - `consents`: every consent, in order (findings point into it by index), with its id, plan, dates,
 *   covered actors, excluded parties and when it was withdrawn — every consent fact either judgement
 *   reads at the moment data leaves;
 * - `followUps`: whole and in order, for `follow-up.overdue`.
 *
 * Every other array is empty and every other member absent. The summary is judged by the functions
 * that judge a `SipPlan` (the read parses it as one, src/http/derived-view.ts), but it is **not the
 * plan**: it is only for those two judgements and the plan's and person's names, never for an answer.
 * Whether it judges as the whole plan does — and as a summary kept before it was made lean, with its
 * parties and consents whole — is held by a differential test over every example and generated plans
 * with withdrawals, closures, exclusions and coverage at many instants, for every caller
 * (test/sip/plan-summary.test.ts). A rule added later that reads the instant and something dropped
 * here would break that equality; {@link SUMMARY_RULES} names the rules the summary was made for, and
 * a read whose basis marks another rule as timed judges from the whole plan (src/http/derived-view.ts).
 */
import type { Closure, Consent, Individual, OtherActor, Principal, Professional, SipPlan, Unit } from './model/index.js';
import { definedMembers } from './objects.js';

/**
 * The codes of the rules that read the instant and that the summary carries everything for. Raise
 * `DERIVATION_REVISION` (src/http/derived-view.ts) when a summary of the kept form would judge
 * differently from one of the new form. Making it leaner did not: the lean members are a subset of the
 * whole ones, read alike, so versions kept with the whole members are judged from them as they are.
 */
export const SUMMARY_RULES: ReadonlySet<string> = new Set([
  'consent.missing',
  'consent.expired',
  'consent.withdrawn',
  'consent.principal-not-covered',
  'follow-up.overdue',
]);

/**
 * The members of each party, consent, closure and person that the two judgements read, and nothing
 * else: names, contacts, titles, kinds, the consents' givers, form, documentation and excluded
 * information, the withdrawal's who and why. Each is a subset of the member's full shape, so a
 * summary written before the summary was made lean (the members whole) is read the same way.
 */
export interface JudgingSummary extends Pick<SipPlan, 'id' | 'version' | 'updatedAt' | 'initiatedAt' | 'initiatedBy' | 'noActionsByOthers' | 'followUps'> {
  /** Its identifier: the audit entry's person, a search's Patient identifier, the birth date of a personnummer. */
  readonly individual: Pick<Individual, 'identifier' | 'birthDate'>;
  /** Matched by HSA-id or organisationsnummer; the name is in `consent.principal-not-covered`'s message. */
  readonly principals: readonly (Pick<Principal, 'id' | 'name' | 'organisationsnummer' | 'hsaId'> & { readonly units: readonly Pick<Unit, 'id' | 'hsaId'>[] })[];
  readonly otherActors: readonly Pick<OtherActor, 'id' | 'organisationsnummer' | 'hsaId'>[];
  /** A professional's HSA-id is never a caller's; its organisation puts it under a unit or actor a consent covers. */
  readonly professionals: readonly Pick<Professional, 'id' | 'hsaId' | 'organization'>[];
  readonly consents: readonly (Pick<Consent, 'id' | 'planId' | 'givenAt' | 'validUntil' | 'coveredActors' | 'excludedParties'> & {
    readonly withdrawal?: Pick<NonNullable<Consent['withdrawal']>, 'withdrawnAt'>;
  })[];
  /** `isClosed` reads whether there is one; a search's period, when it ended. */
  readonly closure?: Pick<Closure, 'closedAt'>;
  readonly relatedPersons: readonly [];
  readonly meetings: readonly [];
  readonly goals: readonly [];
  readonly interventions: readonly [];
  readonly approvals: readonly [];
  readonly deviations: readonly [];
}

/**
 * The judging summary of a plan as `parsePlan` returns it: each member written in the order of its
 * schema, an optional member only when the plan has it (as `JSON.stringify` of the whole plan would).
 */
export function judgingSummaryOf(plan: SipPlan): JudgingSummary {
  const { identifier, birthDate } = plan.individual;
  return {
    id: plan.id,
    version: plan.version,
    updatedAt: plan.updatedAt,
    initiatedAt: plan.initiatedAt,
    initiatedBy: plan.initiatedBy,
    individual: definedMembers({ identifier, birthDate }),
    relatedPersons: [],
    principals: plan.principals.map(({ id, name, organisationsnummer, hsaId, units }) =>
      definedMembers({ id, name, organisationsnummer, hsaId, units: units.map((unit) => definedMembers({ id: unit.id, hsaId: unit.hsaId })) }),
    ),
    otherActors: plan.otherActors.map(({ id, organisationsnummer, hsaId }) => definedMembers({ id, organisationsnummer, hsaId })),
    professionals: plan.professionals.map(({ id, hsaId, organization }) => definedMembers({ id, hsaId, organization })),
    consents: plan.consents.map(({ id, planId, givenAt, validUntil, coveredActors, excludedParties, withdrawal }) =>
      definedMembers({ id, planId, givenAt, validUntil, coveredActors, excludedParties, withdrawal: withdrawal === undefined ? undefined : { withdrawnAt: withdrawal.withdrawnAt } }),
    ),
    meetings: [],
    goals: [],
    interventions: [],
    noActionsByOthers: plan.noActionsByOthers,
    followUps: plan.followUps,
    approvals: [],
    ...(plan.closure === undefined ? {} : { closure: { closedAt: plan.closure.closedAt } }),
    deviations: [],
  };
}
