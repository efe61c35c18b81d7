/**
 * The plan index as src/sip/plan-index.ts made it until 2026-12-04 (at `86a2d2c`), kept as an oracle:
 * every entity's JSON pointer made at once. Copied from src as it was, but for its name, and sharing
 * no code with src's `indexPlan` beyond the types and `toPointer`; test/sip/plan-index-lazy.test.ts
 * holds src's index, whose pointers are made when asked for, to it.
 */
import type { SipPlan } from '../../src/sip/index.js';
import type { EntityKind, IndexedEntity, PlanIndex } from '../../src/sip/plan-index.js';
import { toPointer } from '../../src/sip/problem.js';

export function formerIndexPlan(plan: SipPlan): PlanIndex {
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
