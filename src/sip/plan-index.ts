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

/**
 * An entity as the index keeps it: where it was written as its list and position, its JSON pointer
 * made only when asked for. A rule asks for a pointer only to report a problem, and an index is made
 * on every read (the access decision and the instant's rules, on the version's judging summary): the
 * pointers made for every entity of it were most of the index's cost (≈ 5–9 µs of ≈ 7–12 µs a judging
 * summary, docs/performance.md "The 2026-12-04 night session").
 */
class Entity implements IndexedEntity {
  constructor(
    readonly id: string,
    readonly kind: EntityKind,
    /** The plan's list the entity is in, and its position there; a unit's principal's position. */
    private readonly field: string,
    private readonly position: number,
    /** A unit's position in its principal's `units`. */
    private readonly unit?: number,
    readonly parent?: string,
  ) {}

  get pointer(): string {
    return this.unit === undefined ? toPointer([this.field, this.position]) : toPointer([this.field, this.position, 'units', this.unit]);
  }
}

export function indexPlan(plan: SipPlan): PlanIndex {
  const entities = new Map<string, IndexedEntity>();
  /** Each id declared more than once, with every entity that declared it, in their order. */
  let repeated: Map<string, IndexedEntity[]> | undefined;
  const add = (entity: IndexedEntity): void => {
    const first = entities.get(entity.id);
    if (first === undefined) {
      entities.set(entity.id, entity);
      return;
    }
    repeated ??= new Map();
    const declared = repeated.get(entity.id);
    if (declared === undefined) repeated.set(entity.id, [first, entity]);
    else declared.push(entity);
  };
  const addAll = (kind: EntityKind, field: string, items: readonly { id: string }[]): void => {
    items.forEach((item, i) => {
      add(new Entity(item.id, kind, field, i));
    });
  };

  plan.principals.forEach((principal, p) => {
    add(new Entity(principal.id, 'principal', 'principals', p));
    principal.units.forEach((unit, u) => {
      add(new Entity(unit.id, 'unit', 'principals', p, u, principal.id));
    });
  });
  addAll('otherActor', 'otherActors', plan.otherActors);
  plan.professionals.forEach((professional, i) => {
    add(new Entity(professional.id, 'professional', 'professionals', i, undefined, professional.organization));
  });
  addAll('relatedPerson', 'relatedPersons', plan.relatedPersons);
  addAll('consent', 'consents', plan.consents);
  addAll('meeting', 'meetings', plan.meetings);
  addAll('goal', 'goals', plan.goals);
  addAll('intervention', 'interventions', plan.interventions);
  addAll('deviation', 'deviations', plan.deviations);

  // In the order each id was first declared, as `entities` holds them.
  const duplicates = new Map<string, readonly string[]>();
  if (repeated !== undefined) {
    for (const id of entities.keys()) {
      const declared = repeated.get(id);
      if (declared !== undefined) duplicates.set(id, declared.map((entity) => entity.pointer));
    }
  }
  return { entities, duplicates };
}

/**
 * Where {@link planIndexOf} keeps a plan's index: on the plan object itself, under a symbol (not
 * enumerable, so `JSON.stringify`, `structuredClone`, `Object.keys` and deep equality do not see it).
 *
 * Not in a module-level `WeakMap`: V8's scavenger treats the values of an old-space WeakMap whose keys
 * are young as live for as long as the entry is there, and clears an entry only after the scavenge that
 * finds its key dead. A plan read by a request that was still in flight at one scavenge thus has its
 * index copied then and promoted to the old space at the next, though nothing needs it any more: one
 * index a read, every read, for the Mark-Compact to collect (docs/performance.md, "Memos on their
 * objects"). On the object, the index is garbage with the plan.
 */
const INDEX: unique symbol = Symbol('planIndex');

interface Indexed {
  [INDEX]?: PlanIndex;
}

function keep(plan: SipPlan, index: PlanIndex): void {
  Object.defineProperty(plan, INDEX, { value: index });
}

/**
 * {@link indexPlan} of this plan object, computed once for it: a read judges access (`mayAccess`) and
 * then the rules that read the instant (`judgeSendWith`) on the same plan, and each computed the index
 * anew. Kept on the object ({@link INDEX}), which is never changed once parsed (a `SipPlan` is
 * read-only): it goes with the plan, nothing is kept between requests. A plan that cannot take a
 * property (frozen) is indexed at every call.
 */
export function planIndexOf(plan: SipPlan): PlanIndex {
  const kept = (plan as Indexed)[INDEX];
  if (kept !== undefined) return kept;
  const index = indexPlan(plan);
  if (Object.isExtensible(plan)) keep(plan, index);
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
  const index = (original as Indexed)[INDEX];
  if (index !== undefined && (copy as Indexed)[INDEX] === undefined && Object.isExtensible(copy)) keep(copy, index);
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
