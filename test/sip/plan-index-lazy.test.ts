/**
 * `indexPlan` (src/sip/plan-index.ts) makes an entity's JSON pointer only when asked for it. Held
 * here to the index as it was made before (every pointer made at once, `formerIndexPlan`, copied
 * verbatim but for its name) over every example, generated plans, and plans whose ids are declared
 * two and three times over — the one case where the order of the duplicates and their pointers is
 * what a rule reports (`plan.duplicate-id`, `plan.reserved-id`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import { indexPlan, type EntityKind, type IndexedEntity, type PlanIndex } from '../../src/sip/plan-index.js';
import { toPointer } from '../../src/sip/problem.js';
import { validPlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

/** The index as made before pointers were made when asked for (src/sip/plan-index.ts at `86a2d2c`). */
function formerIndexPlan(plan: SipPlan): PlanIndex {
  const entities = new Map<string, IndexedEntity>();
  const seen = new Map<string, string[]>();
  const add = (entity: IndexedEntity): void => {
    const pointers = seen.get(entity.id) ?? [];
    pointers.push(entity.pointer);
    seen.set(entity.id, pointers);
    if (!entities.has(entity.id)) entities.set(entity.id, entity);
  };
  const addAll = (kind: EntityKind, field: string, items: readonly { id: string }[]): void => {
    items.forEach((item, i) => {
      add({ id: item.id, kind, pointer: toPointer([field, i]) });
    });
  };

  plan.principals.forEach((principal, p) => {
    add({ id: principal.id, kind: 'principal', pointer: toPointer(['principals', p]) });
    principal.units.forEach((unit, u) => {
      add({ id: unit.id, kind: 'unit', pointer: toPointer(['principals', p, 'units', u]), parent: principal.id });
    });
  });
  addAll('otherActor', 'otherActors', plan.otherActors);
  plan.professionals.forEach((professional, i) => {
    add({ id: professional.id, kind: 'professional', pointer: toPointer(['professionals', i]), parent: professional.organization });
  });
  addAll('relatedPerson', 'relatedPersons', plan.relatedPersons);
  addAll('consent', 'consents', plan.consents);
  addAll('meeting', 'meetings', plan.meetings);
  addAll('goal', 'goals', plan.goals);
  addAll('intervention', 'interventions', plan.interventions);
  addAll('deviation', 'deviations', plan.deviations);

  const duplicates = new Map([...seen].filter(([, pointers]) => pointers.length > 1));
  return { entities, duplicates };
}

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
