/**
 * Snapshot generation for constraint StructureDefinitions given as differentials
 * (https://hl7.org/fhir/R4/profiling.html#snapshot).
 *
 * The project writes its profiles as differentials only; validators (ours, Medplum, the HL7 Java
 * validator) need the snapshot. This module builds it from the base definition's snapshot, without
 * retyping any base definition: the caller hands in a lookup that finds base StructureDefinitions
 * (the official R4 ones from `hl7.fhir.r4.examples`, or another of our profiles).
 *
 * What it does, in the order the differential lists its elements:
 * - copies the base snapshot (keeping every `ElementDefinition.base`);
 * - merges each differential element into the snapshot element with the same `id`: cardinality
 *   (only narrowed), `mustSupport`, texts, `fixed[x]`, `pattern[x]`, `binding`, `slicing`, `type`
 *   (only narrowed to types the base allows), and `constraint` appended to the base's;
 * - inserts a slice (`sliceName`, id `Path:name`) after the sliced element, its children and the
 *   slices before it, with a copy of the sliced element's children;
 * - unfolds the children of a complex datatype from its own StructureDefinition when the
 *   differential constrains one of them (e.g. `Patient.identifier:personnummer.system` needs
 *   `StructureDefinition-Identifier.json`).
 *
 * Anything it cannot place (an unknown path, a type the base does not allow, a widened cardinality)
 * is an error that names the element, never a silently dropped rule.
 */
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';

/** Finds a StructureDefinition, with its snapshot, by canonical URL. */
export type BaseLookup = (url: string) => StructureDefinition | undefined;

/** The canonical URL of a base R4 type or resource. */
const coreUrl = (type: string): string => `http://hl7.org/fhir/StructureDefinition/${type}`;

/** Datatypes whose children are defined inline in the resource, never unfolded from a type definition. */
const INLINE_TYPES = new Set(['BackboneElement', 'Element']);

/** Properties the merge handles itself rather than by replacing the base's value. */
const MERGED_SEPARATELY = new Set(['id', 'path', 'constraint', 'type', 'min', 'max', 'base', 'sliceName']);

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** `A.b:s.c` → `A.b.c`: the path an element id stands for. */
export function pathOfId(id: string): string {
  return id
    .split('.')
    .map((segment) => segment.split(':')[0] ?? segment)
    .join('.');
}

function idOf(element: ElementDefinition): string {
  if (element.id !== undefined) return element.id;
  return element.sliceName === undefined ? element.path : `${element.path}:${element.sliceName}`;
}

function parseMax(max: string | undefined): number {
  return max === undefined || max === '*' ? Number.POSITIVE_INFINITY : Number.parseInt(max, 10);
}

/** Working list of snapshot elements, with the operations the generator needs. */
class ElementList {
  constructor(
    readonly elements: ElementDefinition[],
    private readonly getBase: BaseLookup,
    private readonly profileUrl: string,
  ) {}

  indexOf(id: string): number {
    return this.elements.findIndex((element) => element.id === id);
  }

  /** Index just past the element at `index` and everything below it (children and slices). */
  private endOfSubtree(index: number): number {
    const id = this.elements[index]?.id ?? '';
    let end = index + 1;
    while (end < this.elements.length) {
      const next = this.elements[end]?.id ?? '';
      if (!next.startsWith(`${id}.`) && !next.startsWith(`${id}:`)) break;
      end += 1;
    }
    return end;
  }

  /** Children (all descendants) of the element at `index`, not its slices. */
  private descendants(index: number): ElementDefinition[] {
    const id = this.elements[index]?.id ?? '';
    return this.elements.slice(index + 1, this.endOfSubtree(index)).filter((element) => (element.id ?? '').startsWith(`${id}.`));
  }

  /** Makes sure the element `id` exists, creating slices and unfolding datatypes on the way. */
  ensure(id: string): number {
    const found = this.indexOf(id);
    if (found >= 0) return found;
    const lastDot = id.lastIndexOf('.');
    const lastColon = id.lastIndexOf(':');
    if (lastColon > lastDot) {
      // A slice: `<sliced element>:<name>`.
      return this.addSlice(id.slice(0, lastColon), id.slice(lastColon + 1));
    }
    if (lastDot < 0) throw new SnapshotError(`${this.profileUrl}: element ${id} is not in the base definition`);
    const parentIndex = this.ensure(id.slice(0, lastDot));
    if (this.descendants(parentIndex).length === 0) this.unfold(parentIndex);
    const index = this.indexOf(id);
    if (index < 0) throw new SnapshotError(`${this.profileUrl}: element ${id} (path ${pathOfId(id)}) is not in the base definition`);
    return index;
  }

  private addSlice(slicedId: string, sliceName: string): number {
    const slicedIndex = this.ensure(slicedId);
    const sliced = this.elements[slicedIndex];
    if (sliced === undefined) throw new SnapshotError(`${this.profileUrl}: no element ${slicedId} to slice`);
    const sliceId = `${slicedId}:${sliceName}`;
    const { slicing: _slicing, ...withoutSlicing } = clone(sliced);
    const slice: ElementDefinition = { ...withoutSlicing, id: sliceId, sliceName };
    const children = this.descendants(slicedIndex).map((child) => ({ ...clone(child), id: `${sliceId}${(child.id ?? '').slice(slicedId.length)}` }));
    const at = this.endOfSubtree(slicedIndex);
    this.elements.splice(at, 0, slice, ...children);
    return at;
  }

  /** Inserts the children of the element's single complex type, from that type's own definition. */
  private unfold(index: number): void {
    const element = this.elements[index];
    if (element === undefined) return;
    const id = idOf(element);
    if (element.contentReference !== undefined) {
      const target = this.indexOf(element.contentReference.replace(/^#/, ''));
      if (target < 0) throw new SnapshotError(`${this.profileUrl}: ${id} refers to ${element.contentReference}, which is not in the snapshot`);
      const targetId = this.elements[target]?.id ?? '';
      const children = this.descendants(target).map((child) => {
        const suffix = (child.id ?? '').slice(targetId.length);
        return { ...clone(child), id: `${id}${suffix}`, path: `${element.path}${pathOfId(suffix)}` };
      });
      this.elements.splice(index + 1, 0, ...children);
      return;
    }
    const codes = (element.type ?? []).map((type) => type.code);
    const [code] = codes;
    if (codes.length !== 1 || code === undefined) {
      throw new SnapshotError(`${this.profileUrl}: cannot constrain the children of ${id}: it has ${String(codes.length)} types (narrow its type first)`);
    }
    if (INLINE_TYPES.has(code)) return;
    const typeDefinition = this.getBase(coreUrl(code));
    const typeElements = typeDefinition?.snapshot?.element;
    if (typeElements === undefined) throw new SnapshotError(`${this.profileUrl}: no StructureDefinition with a snapshot for type ${code} (needed by ${id})`);
    const children = typeElements.slice(1).map((child) => {
      const suffix = (child.id ?? child.path).slice(code.length);
      return { ...clone(child), id: `${id}${suffix}`, path: `${element.path}${pathOfId(suffix)}` };
    });
    this.elements.splice(index + 1, 0, ...children);
  }
}

function mergeTypes(target: ElementDefinition, diff: ElementDefinition, where: string): void {
  if (diff.type === undefined) return;
  const allowed = new Set((target.type ?? []).map((type) => type.code));
  for (const type of diff.type) {
    if (!allowed.has(type.code)) {
      throw new SnapshotError(`${where}: type ${type.code} is not one of the base types (${[...allowed].join(', ')})`);
    }
  }
  target.type = clone(diff.type);
}

function mergeCardinality(target: ElementDefinition, diff: ElementDefinition, where: string): void {
  if (diff.min !== undefined) {
    // A slice may have a lower min than the sliced element's (each slice counts its own occurrences).
    if (target.sliceName === undefined && diff.min < (target.min ?? 0)) {
      throw new SnapshotError(`${where}: min ${String(diff.min)} is below the base's ${String(target.min ?? 0)}`);
    }
    target.min = diff.min;
  }
  if (diff.max !== undefined) {
    if (parseMax(diff.max) > parseMax(target.max)) throw new SnapshotError(`${where}: max ${diff.max} exceeds the base's ${target.max ?? '*'}`);
    target.max = diff.max;
  }
  if ((target.min ?? 0) > parseMax(target.max)) throw new SnapshotError(`${where}: min ${String(target.min)} exceeds max ${target.max ?? '*'}`);
}

function merge(target: ElementDefinition, diff: ElementDefinition, where: string): void {
  mergeCardinality(target, diff, where);
  mergeTypes(target, diff, where);
  if (diff.constraint !== undefined) {
    const keys = new Set((target.constraint ?? []).map((constraint) => constraint.key));
    for (const constraint of diff.constraint) {
      if (keys.has(constraint.key)) throw new SnapshotError(`${where}: constraint ${constraint.key} is already defined by the base`);
    }
    target.constraint = [...(target.constraint ?? []), ...clone(diff.constraint)];
  }
  for (const [key, value] of Object.entries(diff)) {
    if (MERGED_SEPARATELY.has(key) || value === undefined) continue;
    // A fixed or pattern value replaces any other of the base (one value[x] per element).
    if (key.startsWith('fixed') || key.startsWith('pattern')) {
      const prefix = key.startsWith('fixed') ? 'fixed' : 'pattern';
      for (const existing of Object.keys(target)) if (existing.startsWith(prefix)) Reflect.deleteProperty(target, existing);
    }
    Reflect.set(target, key, clone(value));
  }
}

/**
 * The snapshot of a constraint StructureDefinition: a copy of `differentialSd` with `snapshot`
 * built from its base definition (found through `getBase` by `baseDefinition`). Throws a
 * {@link SnapshotError} naming the element when the differential cannot be applied.
 */
export function generateSnapshot(differentialSd: StructureDefinition, getBase: BaseLookup): StructureDefinition {
  const url = differentialSd.url;
  if (differentialSd.derivation !== 'constraint') throw new SnapshotError(`${url}: only constraint StructureDefinitions are supported`);
  const baseUrl = differentialSd.baseDefinition;
  if (baseUrl === undefined) throw new SnapshotError(`${url}: no baseDefinition`);
  const base = getBase(baseUrl);
  const baseElements = base?.snapshot?.element;
  if (baseElements === undefined) throw new SnapshotError(`${url}: base ${baseUrl} was not found or has no snapshot`);
  if (base?.type !== differentialSd.type) throw new SnapshotError(`${url}: type ${differentialSd.type} differs from the base's ${String(base?.type)}`);

  const list = new ElementList(
    clone(baseElements).map((element) => ({ ...element, id: idOf(element) })),
    getBase,
    url,
  );
  for (const diff of differentialSd.differential?.element ?? []) {
    const id = idOf(diff);
    if (pathOfId(id) !== diff.path) throw new SnapshotError(`${url}: element id ${id} does not match its path ${diff.path}`);
    const index = list.ensure(id);
    const target = list.elements[index];
    if (target === undefined) throw new SnapshotError(`${url}: element ${id} is not in the base definition`);
    merge(target, diff, `${url}: ${id}`);
  }
  return { ...clone(differentialSd), snapshot: { element: list.elements } };
}
