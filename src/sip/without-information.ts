/**
 * The plan without the information the person excluded (seed 001 §4.2: "Den enskilde ska erbjudas
 * möjlighet att undanta uppgifter som hen inte vill att annan tar del av"). Used at the moment a plan
 * version leaves the adapter (src/exchange/consent-at-send.ts), before it is mapped to FHIR or to a
 * municipal format, so an excluded class never reaches the wire.
 *
 * Removed are the items tagged with an excluded class (`informationClasses` on goals, interventions
 * with their decision, and deviations; see `informationClassesSchema` for why these), and every
 * reference to them that would dangle: an intervention's `goals`, a goal's `replaces`. No other
 * field of the model can point to a goal, an intervention or a deviation (the reference sites of
 * the `plan.unresolved-reference` rule), so the result parses as a SIP and resolves as the input did.
 *
 * Approvals: a principal's approval digests its part of the plan (src/sip/approval-digest.ts),
 * goals and interventions included, so removing any of them would make every approval in force look
 * edited to the receiver, and a green plan arrive as a draft. An approval in force in the whole plan
 * is therefore given the digest of its part as this receiver sees it: it approved that part, and
 * more. An approval not in force is left as it is, and stays not in force.
 */
import { approvalDigest, approvalParts } from './approval-digest.js';
import { approvalsInForce } from './lifecycle.js';
import type { InformationClass, SipPlan } from './model/index.js';
import { shareIndex } from './plan-index.js';

/** Whether an item is tagged with one of the classes. */
function tagged(item: { readonly informationClasses: readonly InformationClass[] }, classes: ReadonlySet<InformationClass>): boolean {
  return item.informationClasses.some((informationClass) => classes.has(informationClass));
}

/**
 * The plan with every goal, intervention and deviation tagged with one of `classes` removed, and the
 * references to them with it. Pure: the input is not changed. With no class, or no tagged item, the
 * plan itself is returned.
 */
export function withoutInformation(plan: SipPlan, classes: readonly InformationClass[]): SipPlan {
  const excluded = new Set(classes);
  if (excluded.size === 0) return plan;
  const removedGoals = new Set(plan.goals.filter((goal) => tagged(goal, excluded)).map((goal) => goal.id));
  const removesInterventions = plan.interventions.some((intervention) => tagged(intervention, excluded));
  const removesDeviations = plan.deviations.some((deviation) => tagged(deviation, excluded));
  if (removedGoals.size === 0 && !removesInterventions && !removesDeviations) return plan;

  const goals = plan.goals
    .filter((goal) => !removedGoals.has(goal.id))
    .map((goal) => {
      if (goal.replaces === undefined || !removedGoals.has(goal.replaces)) return goal;
      const { replaces: _removed, ...rest } = goal;
      return rest;
    });
  const interventions = plan.interventions
    .filter((intervention) => !tagged(intervention, excluded))
    .map((intervention) =>
      intervention.goals.some((goal) => removedGoals.has(goal)) ? { ...intervention, goals: intervention.goals.filter((goal) => !removedGoals.has(goal)) } : intervention,
    );
  const deviations = plan.deviations.filter((deviation) => !tagged(deviation, excluded));
  const reduced: SipPlan = { ...plan, goals, interventions, deviations };

  const inForce = new Set(approvalsInForce(plan));
  if (!plan.approvals.some((approval) => inForce.has(approval) && approval.digest !== undefined)) return reduced;
  const parts = approvalParts(reduced);
  return {
    ...reduced,
    approvals: plan.approvals.map((approval) =>
      inForce.has(approval) && approval.digest !== undefined ? { ...approval, digest: approvalDigest(reduced, approval.principal, parts) } : approval,
    ),
  };
}

/**
 * The plan with the person's own words about what they exclude taken out of every consent
 * (`excludedInformation[].description`), the class codes kept. Seed 001 §4.2 lets the person "undanta
 * uppgifter som hen inte vill att annan tar del av"; what they write about the exclusion may itself
 * say it ("min behandling för …"), so a receiver learns only *that* information of a class was left
 * out, by its code, never the person's description. The words stay in the store and in what the
 * principals and their units read; an other actor reads without them (src/http/narrowing.ts; README,
 * "The exchange"). Pure: the input is not changed; with no description the plan itself is
 * returned.
 */
export function withoutExclusionDescriptions(plan: SipPlan): SipPlan {
  if (!plan.consents.some((consent) => consent.excludedInformation.some((excluded) => excluded.description !== undefined))) return plan;
  const copy: SipPlan = {
    ...plan,
    consents: plan.consents.map((consent) =>
      consent.excludedInformation.some((excluded) => excluded.description !== undefined)
        ? { ...consent, excludedInformation: consent.excludedInformation.map((excluded) => ({ class: excluded.class })) }
        : consent,
    ),
  };
  // Every entity keeps its id and place: the original's index is the copy's.
  shareIndex(plan, copy);
  return copy;
}
