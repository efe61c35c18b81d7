/**
 * `indexPlan` (src/sip/plan-index.ts) makes an entity's JSON pointer only when asked for it. Held
 * here to the index as it was made before (every pointer made at once, test/support/former-plan-index.ts)
 * over every example, generated plans, and plans whose ids are declared two and three times over —
 * the one case where the order of the duplicates and their pointers is what a rule reports
 * (`plan.duplicate-id`, `plan.reserved-id`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { indexPlan, type PlanIndex } from '../../src/sip/plan-index.js';
import { validPlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { formerIndexPlan } from '../support/former-plan-index.js';

/** An index as plain data: each entity's fields and pointer in the map's order, and the duplicates in theirs. */
function asData(index: PlanIndex): unknown {
  return {
    entities: [...index.entities].map(([id, entity]) => [id, { id: entity.id, kind: entity.kind, pointer: entity.pointer, parent: entity.parent }]),
    duplicates: [...index.duplicates],
  };
}

function expectAsBefore(plan: SipPlan): void {
  expect(asData(indexPlan(plan))).toStrictEqual(asData(formerIndexPlan(plan)));
}

/** `plan` with ids declared again: the first unit's id on the first goal and the last intervention, the first consent's on a meeting, and "individual" on a related person. */
function withRepeatedIds(plan: SipPlan): SipPlan {
  const unitId = plan.principals.flatMap((principal) => principal.units)[0]?.id ?? plan.principals[0]?.id ?? 'x';
  const consentId = plan.consents[0]?.id ?? 'y';
  return {
    ...plan,
    goals: plan.goals.map((goal, i) => (i === 0 ? { ...goal, id: unitId } : goal)),
    interventions: plan.interventions.map((intervention, i) => (i === plan.interventions.length - 1 ? { ...intervention, id: unitId } : intervention)),
    meetings: plan.meetings.map((meeting, i) => (i === 0 ? { ...meeting, id: consentId } : meeting)),
    relatedPersons: plan.relatedPersons.map((person, i) => (i === 0 ? { ...person, id: 'individual' } : person)),
  };
}

describe('the plan index with pointers made when asked for', () => {
  it('is the index as made before, for every example, with and without ids declared again', () => {
    let duplicated = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      expectAsBefore(plan);
      const repeated = withRepeatedIds(plan);
      expectAsBefore(repeated);
      if (indexPlan(repeated).duplicates.size > 0) duplicated += 1;
    }
    // Not vacuous: the repeated ids are found as duplicates.
    expect(duplicated).toBeGreaterThan(exampleFiles.length / 2);
  });

  it('is the index as made before, for generated plans', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error('a generated plan parses');
        const plan = parsed.plan;
        expectAsBefore(plan);
        expectAsBefore(withRepeatedIds(plan));
      }),
      { numRuns: 200 },
    );
  });

  it('gives an entity the pointer of where it was written', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const unit = plan.principals[0]?.units[0];
    if (unit === undefined) throw new Error('the example has a unit');
    expect(indexPlan(plan).entities.get(unit.id)?.pointer).toBe('/principals/0/units/0');
    expect(indexPlan(plan).entities.get(plan.goals[1]?.id ?? '')?.pointer).toBe('/goals/1');
  });
});
