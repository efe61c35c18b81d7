/**
 * An index of everything in a plan that has an `id`, so rules can resolve references, find the
 * principal a unit or professional belongs to, and point at where an entity was written.
 */
import type { SipPlan } from './model/index.js';
import { toPointer } from './problem.js';

export type EntityKind =
  | 'principal'
  | 'unit'
  | 'otherActor'
  | 'professional'
  | 'relatedPerson'
  | 'consent'
  | 'meeting'
  | 'goal'
  | 'intervention'
  | 'deviation';

export interface IndexedEntity {
  readonly id: string;
  readonly kind: EntityKind;
  readonly pointer: string;
  /** For a unit, its principal; for a professional, the organisation it acts for. */
  readonly parent?: string;
}

export interface PlanIndex {
  readonly entities: ReadonlyMap<string, IndexedEntity>;
  /** Ids declared more than once, with every pointer where they were declared. */
  readonly duplicates: ReadonlyMap<string, readonly string[]>;
}

export function indexPlan(plan: SipPlan): PlanIndex {
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

const indexes = new WeakMap<SipPlan, PlanIndex>();

/**
 * {@link indexPlan} of this plan object, computed once for it: a read judges access (`mayAccess`) and
 * then the rules that read the instant (`judgeSendWith`) on the same plan, and each computed the index
 * anew. Keyed by the object, which is never changed once parsed (a `SipPlan` is read-only), and held
 * weakly: it goes with the plan, nothing is kept between requests.
 */
export function planIndexOf(plan: SipPlan): PlanIndex {
  let index = indexes.get(plan);
  if (index === undefined) {
    index = indexPlan(plan);
    indexes.set(plan, index);
  }
  return index;
}

/**
 * Gives `copy` the index `planIndexOf` computed for `original`, when it has one: for a copy made from
 * the original that changes nothing {@link indexPlan} reads (the ids of every entity, in their places,
 * the units' principals and the professionals' organisations) — `withoutExclusionDescriptions`, which
 * changes only the consents' exclusion descriptions. A delivery judges consent on the plan as
 * recorded and maps that copy; the copy is then not indexed a second time.
 */
export function shareIndex(original: SipPlan, copy: SipPlan): void {
  const index = indexes.get(original);
  if (index !== undefined && !indexes.has(copy)) indexes.set(copy, index);
}

/** The entity and every organisation above it: professional → unit → principal. */
export function lineage(index: PlanIndex, id: string): string[] {
  const chain: string[] = [];
  let current: string | undefined = id;
  while (current !== undefined && !chain.includes(current)) {
    chain.push(current);
    current = index.entities.get(current)?.parent;
  }
  return chain;
}

/** The principal a principal, unit or professional belongs to; undefined for other actors and people. */
export function principalOf(index: PlanIndex, id: string): string | undefined {
  return lineage(index, id).find((ancestor) => index.entities.get(ancestor)?.kind === 'principal');
}
