/**
 * withoutInformation (src/sip/without-information.ts): the plan without the items tagged with an
 * excluded information class (seed 001 §4.2), still a SIP whose references all resolve, with the
 * approvals in force still in force.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvalDigest,
  approvalsInForce,
  checkPlan,
  informationClassSchema,
  parsePlan,
  planStatus,
  withoutInformation,
  type InformationClass,
  type SipPlan,
} from '../../src/sip/index.js';
import { validPlanArbitrary } from '../support/arbitraries.js';
import { readExample } from '../support/examples.js';

const CLASSES = informationClassSchema.options;
const ADULT = readExample('adult-psychiatry-addiction.json');

/** A text no plan holds unless it was put there: the class and the item it tags. */
const sentinel = (informationClass: InformationClass, id: string): string => `⟦${informationClass}:${id}⟧`;

function parsed(input: unknown): SipPlan {
  const result = parsePlan(input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
  return result.plan;
}

/** Tags applied to the items, in order: goals, then interventions, then deviations, cycling through `tags`. */
interface Tagging {
  readonly tags: readonly (readonly InformationClass[])[];
  /** For each goal, the earlier goal (by position, modulo) it replaces, or none. */
  readonly replaces: readonly (number | undefined)[];
  readonly deviations: number;
  readonly excluded: readonly InformationClass[];
}

const taggingArbitrary: fc.Arbitrary<Tagging> = fc.record({
  tags: fc.array(fc.subarray([...CLASSES], { maxLength: 2 }), { minLength: 1, maxLength: 12 }),
  replaces: fc.array(fc.option(fc.nat(), { nil: undefined }), { minLength: 4, maxLength: 4 }),
  deviations: fc.integer({ min: 0, max: 3 }),
  excluded: fc.subarray([...CLASSES]),
});

/** The plan with tags, a sentinel per tag in each tagged item's words, goal replacements and deviations. */
function tagPlan(plan: SipPlan, tagging: Tagging): SipPlan {
  let next = 0;
  const tagsFor = (): InformationClass[] => [...(tagging.tags[next++ % tagging.tags.length] ?? [])];
  const words = (text: string, id: string, classes: readonly InformationClass[]): string => [text, ...classes.map((c) => sentinel(c, id))].join(' ');
  const goals = plan.goals.map((goal, i) => {
    const informationClasses = tagsFor();
    const replaced = tagging.replaces[i];
    return {
      ...goal,
      description: words(goal.description, goal.id, informationClasses),
      informationClasses,
      ...(replaced === undefined || i === 0 ? {} : { replaces: plan.goals[replaced % i]?.id }),
    };
  });
  const interventions = plan.interventions.map((intervention) => {
    const informationClasses = tagsFor();
    const decision = intervention.decision === undefined ? undefined : { ...intervention.decision, reasoning: words('Motivering.', intervention.id, informationClasses) };
    return { ...intervention, description: words(intervention.description, intervention.id, informationClasses), informationClasses, ...(decision === undefined ? {} : { decision }) };
  });
  const reporter = plan.principals[0]?.id ?? 'region';
  const deviations = Array.from({ length: tagging.deviations }, (_, i) => {
    const id = `deviation-${String(i + 1)}`;
    const informationClasses = tagsFor();
    return {
      id,
      reportedAt: plan.updatedAt,
      reportedBy: reporter,
      concerns: reporter,
      category: 'other' as const,
      description: words('Avvikelse.', id, informationClasses),
      status: 'open' as const,
      informationClasses,
    };
  });
  return approvedAsIs(parsed(JSON.parse(JSON.stringify({ ...plan, goals, interventions, deviations }))));
}

/** The plan with each digest-bound approval given the digest of its part as the plan now stands: what its principal approved. */
function approvedAsIs(plan: SipPlan): SipPlan {
  return { ...plan, approvals: plan.approvals.map((approval) => (approval.digest === undefined ? approval : { ...approval, digest: approvalDigest(plan, approval.principal) })) };
}

describe('withoutInformation, property-based', () => {
  it('gives a plan that parses as a SIP, resolves every reference, and holds no text of an excluded class but all text of the rest', () => {
    fc.assert(
      fc.property(validPlanArbitrary, taggingArbitrary, (input, tagging) => {
        const plan = tagPlan(parsed(input), tagging);
        const result = withoutInformation(plan, tagging.excluded);
        const text = JSON.stringify(result);
        // It parses as a SIP (through JSON, as it would travel) and every reference still resolves.
        const reparsed = parsePlan(JSON.parse(text));
        expect(reparsed.ok).toBe(true);
        expect(checkPlan(result).filter((problem) => problem.code === 'plan.unresolved-reference')).toEqual([]);
        // No sentinel of an excluded class is left anywhere in the plan.
        for (const informationClass of tagging.excluded) expect(text).not.toContain(`⟦${informationClass}:`);
        // Every item not tagged with an excluded class is kept, with its words.
        const excluded = new Set(tagging.excluded);
        const kept = [...plan.goals, ...plan.interventions, ...plan.deviations].filter((item) => !item.informationClasses.some((c) => excluded.has(c)));
        for (const item of kept) expect(text).toContain(item.description);
        expect(result.goals.length + result.interventions.length + result.deviations.length).toBe(kept.length);
        // The approvals that counted still count, so the receiver sees the plan's status as it is.
        expect(approvalsInForce(result).map((approval) => approval.principal)).toEqual(approvalsInForce(plan).map((approval) => approval.principal));
        expect(planStatus(result)).toBe(planStatus(plan));
      }),
      { numRuns: 150 },
    );
  });
});

describe('withoutInformation, by example', () => {
  const plan: SipPlan = approvedAsIs({
    ...ADULT,
    goals: [
      ...ADULT.goals.map((goal) => (goal.id === 'goal-1' ? { ...goal, informationClasses: ['substanceUse' as const] } : goal)),
      { id: 'goal-4', description: 'Jag vill vara nykter i ett år.', expressedBy: 'individual', status: 'active', replaces: 'goal-1', informationClasses: [] },
    ],
    interventions: ADULT.interventions.map((intervention) => (intervention.id === 'int-4' ? { ...intervention, informationClasses: ['financialSituation' as const] } : intervention)),
  });

  it('removes a tagged goal, and the references of interventions and of the goal that replaced it', () => {
    const result = withoutInformation(plan, ['substanceUse']);
    expect(result.goals.map((goal) => goal.id)).toEqual(['goal-2', 'goal-3', 'goal-4']);
    expect(result.goals.find((goal) => goal.id === 'goal-4')?.replaces).toBeUndefined();
    expect(result.interventions.map((intervention) => [intervention.id, intervention.goals])).toEqual([
      ['int-1', []],
      ['int-2', []],
      ['int-3', []],
      ['int-4', ['goal-2']],
      ['int-5', ['goal-3']],
      ['int-6', ['goal-2']],
    ]);
  });

  it('removes a tagged intervention with its decision', () => {
    const result = withoutInformation(plan, ['financialSituation']);
    expect(result.interventions.map((intervention) => intervention.id)).toEqual(['int-1', 'int-2', 'int-3', 'int-5', 'int-6']);
    expect(JSON.stringify(result)).not.toContain('Jonas behöver stöd med ekonomi');
  });

  it('returns the plan itself when no class is excluded or nothing is tagged with one', () => {
    expect(withoutInformation(plan, [])).toBe(plan);
    expect(withoutInformation(plan, ['criminalRecord'])).toBe(plan);
  });

  it('keeps the approvals in force in force: the example stays active', () => {
    expect(planStatus(plan)).toBe('active');
    const result = withoutInformation(plan, ['substanceUse', 'financialSituation']);
    expect(planStatus(result)).toBe('active');
    expect(result.approvals.map((approval) => approval.digest)).not.toEqual(plan.approvals.map((approval) => approval.digest));
  });

  it('leaves an approval that was not in force as it was', () => {
    const withdrawn = {
      ...plan,
      approvals: plan.approvals.map((approval, i) => (i === 0 ? { ...approval, withdrawn: { at: '2026-03-12T16:00:00+01:00', reason: 'revokedByPrincipal' as const } } : approval)),
    };
    const result = withoutInformation(withdrawn, ['substanceUse']);
    expect(result.approvals[0]).toEqual(withdrawn.approvals[0]);
    expect(approvalsInForce(result).map((approval) => approval.principal)).toEqual(['falu-kommun']);
  });
});
