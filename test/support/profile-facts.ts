/**
 * Compares two builds of the same FHIR conformance artefact on what a validator or a reader relies
 * on, whatever wrote them: the StructureDefinition's identity (url, id, name, type, baseDefinition,
 * kind, context …), and every rule of its differential — cardinalities, fixed and pattern values,
 * bindings, types and profiles, slicing, invariants, short texts, mustSupport.
 *
 * Two generators need not write the same differential for the same rules (SUSHI leaves out what
 * the base already says, such as an extension slice's url that the extension fixes), so each
 * differential element is looked up in the other build's snapshot: every rule one build states
 * holds in the other. CodeSystems and ValueSets are compared whole.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ElementDefinition, FhirResource, StructureDefinition } from 'fhir/r4.js';

/** The header fields of a StructureDefinition that must not change. */
const HEADER = ['url', 'id', 'version', 'name', 'title', 'status', 'experimental', 'publisher', 'description', 'fhirVersion', 'kind', 'abstract', 'type', 'baseDefinition', 'derivation'] as const;

/** Element properties that carry no rule: where the element is, and the book-keeping a snapshot adds. */
const NOT_RULES = new Set(['id', 'path', 'base', 'constraint', 'mapping', 'condition', 'isModifier', 'isSummary', 'isModifierReason', 'comment', 'alias', 'requirements', 'meaningWhenMissing', 'extension']);

/**
 * A rule property of an element as one build states it, normalised where two builds may write the
 * same rule in two ways:
 * - `slicing.ordered` absent means false (https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.slicing.ordered);
 * - a type's `profile` and `targetProfile` lists compare as sets.
 */
function normalised(key: string, value: unknown): unknown {
  if (key === 'slicing' && typeof value === 'object' && value !== null) return { ordered: false, ...(value) };
  if (key === 'type' && Array.isArray(value)) {
    return (value as { code: string; profile?: string[]; targetProfile?: string[] }[]).map((type) => ({
      ...type,
      ...(type.profile === undefined ? {} : { profile: [...type.profile].sort() }),
      ...(type.targetProfile === undefined ? {} : { targetProfile: [...type.targetProfile].sort() }),
    }));
  }
  return value;
}

/** The project's own invariants on an element (the base ones come from the R4 definitions). */
function ownConstraints(element: ElementDefinition | undefined): unknown[] {
  return (element?.constraint ?? [])
    .filter((constraint) => constraint.key.startsWith('sip-'))
    .map(({ key, severity, human, expression, requirements, source }) => ({ key, severity, human, expression, requirements, source }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Whether two minimums of a sliced element mean the same: an element has at least as many items as
 * its slices require together, so SUSHI raises the minimum to that sum (a complex extension with two
 * required parts has at least two sub-extensions; a profile with a required extension slice has at
 * least one extension), where the hand-written differential stated less.
 */
function sameMinimumGivenSlices(id: string | undefined, a: number, b: number, snapshot: readonly ElementDefinition[]): boolean {
  const required = snapshot.filter((element) => element.sliceName !== undefined && element.id === `${id ?? ''}:${element.sliceName}`).reduce((sum, element) => sum + (element.min ?? 0), 0);
  return Math.max(a, required) === Math.max(b, required);
}

/** Rules `from`'s differential states that `to`'s snapshot does not hold, one line each. */
function rulesMissing(fromName: string, from: StructureDefinition, toName: string, to: StructureDefinition): string[] {
  const snapshot = to.snapshot?.element ?? [];
  const byId = new Map(snapshot.map((element) => [element.id, element]));
  const problems: string[] = [];
  for (const element of from.differential?.element ?? []) {
    const other = byId.get(element.id);
    if (other === undefined) {
      problems.push(`${element.id ?? '?'}: in ${fromName}'s differential, not in ${toName}'s snapshot`);
      continue;
    }
    for (const [key, value] of Object.entries(element)) {
      if (NOT_RULES.has(key)) continue;
      const theirs: unknown = Object.entries(other).find(([name]) => name === key)?.[1];
      if (isDeepStrictEqual(normalised(key, value), normalised(key, theirs))) continue;
      if (key === 'min' && typeof value === 'number' && typeof theirs === 'number' && sameMinimumGivenSlices(element.id, value, theirs, snapshot)) continue;
      problems.push(`${element.id ?? '?'}.${key}: ${fromName} ${JSON.stringify(value)}, ${toName} ${JSON.stringify(theirs)}`);
    }
    if (!isDeepStrictEqual(ownConstraints(element), ownConstraints(other)) && (element.constraint ?? []).some((constraint) => constraint.key.startsWith('sip-'))) {
      problems.push(`${element.id ?? '?'} invariants: ${fromName} ${JSON.stringify(ownConstraints(element))}, ${toName} ${JSON.stringify(ownConstraints(other))}`);
    }
  }
  return problems;
}

/** Every difference that matters between two builds of one StructureDefinition; empty when none. */
export function structureDefinitionDifferences(oldName: string, old: StructureDefinition, newName: string, built: StructureDefinition): string[] {
  const problems: string[] = [];
  for (const key of HEADER) {
    if (!isDeepStrictEqual(old[key], built[key])) problems.push(`${key}: ${oldName} ${JSON.stringify(old[key])}, ${newName} ${JSON.stringify(built[key])}`);
  }
  const contexts = (definition: StructureDefinition) => (definition.context ?? []).map(({ type, expression }) => `${type} ${expression}`).sort();
  if (!isDeepStrictEqual(contexts(old), contexts(built))) problems.push(`context: ${oldName} ${JSON.stringify(contexts(old))}, ${newName} ${JSON.stringify(contexts(built))}`);
  problems.push(...rulesMissing(oldName, old, newName, built), ...rulesMissing(newName, built, oldName, old));
  // Every element's own invariants, in both snapshots (a constraint lives on in the snapshot).
  const ids = new Set([...(old.snapshot?.element ?? []), ...(built.snapshot?.element ?? [])].map((element) => element.id));
  for (const id of ids) {
    const a = ownConstraints(old.snapshot?.element.find((element) => element.id === id));
    const b = ownConstraints(built.snapshot?.element.find((element) => element.id === id));
    if (!isDeepStrictEqual(a, b)) problems.push(`${id ?? '?'} snapshot invariants: ${oldName} ${JSON.stringify(a)}, ${newName} ${JSON.stringify(b)}`);
  }
  return [...new Set(problems)];
}

/** Every difference between two builds of one artefact; empty when none. */
export function artefactDifferences(oldName: string, old: FhirResource, newName: string, built: FhirResource): string[] {
  if (old.resourceType === 'StructureDefinition' && built.resourceType === 'StructureDefinition') return structureDefinitionDifferences(oldName, old, newName, built);
  return isDeepStrictEqual(old, built) ? [] : [`${oldName} ${JSON.stringify(old)}\n${newName} ${JSON.stringify(built)}`];
}
