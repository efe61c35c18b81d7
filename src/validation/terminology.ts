/**
 * ValueSet membership from the ValueSets and CodeSystems the validator has (R4's own, in
 * `hl7.fhir.r4.examples`, and the project's in `profiles/`), expanded locally as
 * https://hl7.org/fhir/R4/valueset.html#compositions describes: `include` by whole system, by
 * concept list, by `is-a`/`descendent-of`/`=` filters on a hierarchy, and by other ValueSets;
 * `exclude` likewise.
 *
 * A ValueSet that cannot be expanded here — it draws on SNOMED CT, LOINC, UCUM, MIME types or
 * another system that is not in the package, or on a CodeSystem whose `content` is not `complete`
 * — gives `undefined`: the code is neither accepted nor rejected, and the walker does not report.
 */
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4.js';
import type { DefinitionStore } from './definitions.js';

export interface Expansion {
  /** `system|code` of every member. */
  readonly pairs: ReadonlySet<string>;
  /** Every member code, whatever its system (for the `code` data type, which carries no system). */
  readonly codes: ReadonlySet<string>;
  readonly systems: ReadonlySet<string>;
}

class CannotExpand extends Error {}

function conceptCodes(concepts: readonly CodeSystemConcept[] | undefined, into: string[]): string[] {
  for (const concept of concepts ?? []) {
    into.push(concept.code);
    conceptCodes(concept.concept, into);
  }
  return into;
}

function findConcept(concepts: readonly CodeSystemConcept[] | undefined, code: string): CodeSystemConcept | undefined {
  for (const concept of concepts ?? []) {
    if (concept.code === code) return concept;
    const nested = findConcept(concept.concept, code);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

export class Terminology {
  readonly #store: DefinitionStore;
  readonly #expansions = new Map<string, Expansion | null>();

  constructor(store: DefinitionStore) {
    this.#store = store;
  }

  /** The ValueSet's members, or `undefined` when it is unknown or cannot be expanded here. */
  expand(valueSetUrl: string): Expansion | undefined {
    const cached = this.#expansions.get(valueSetUrl);
    if (cached !== undefined) return cached ?? undefined;
    let expansion: Expansion | undefined;
    try {
      expansion = this.#expand(valueSetUrl, new Set());
    } catch (error) {
      if (!(error instanceof CannotExpand)) throw error;
      expansion = undefined;
    }
    this.#expansions.set(valueSetUrl, expansion ?? null);
    return expansion;
  }

  #expand(valueSetUrl: string, seen: Set<string>): Expansion {
    if (seen.has(valueSetUrl)) throw new CannotExpand(valueSetUrl);
    seen.add(valueSetUrl);
    const valueSet = this.#store.valueSet(valueSetUrl);
    if (valueSet?.compose === undefined) throw new CannotExpand(valueSetUrl);
    const pairs = new Set<string>();
    for (const include of valueSet.compose.include) {
      for (const pair of this.#members(include, valueSet, seen)) pairs.add(pair);
    }
    for (const exclude of valueSet.compose.exclude ?? []) {
      for (const pair of this.#members(exclude, valueSet, seen)) pairs.delete(pair);
    }
    const codes = new Set<string>();
    const systems = new Set<string>();
    for (const pair of pairs) {
      const bar = pair.lastIndexOf('|');
      systems.add(pair.slice(0, bar));
      codes.add(pair.slice(bar + 1));
    }
    return { pairs, codes, systems };
  }

  #members(include: ValueSetComposeInclude, valueSet: ValueSet, seen: Set<string>): string[] {
    let members: string[] | undefined;
    if (include.system !== undefined) members = this.#systemMembers(include, valueSet).map((code) => `${include.system ?? ''}|${code}`);
    for (const imported of include.valueSet ?? []) {
      const inner = this.#expand(imported, seen);
      members = members === undefined ? [...inner.pairs] : members.filter((pair) => inner.pairs.has(pair));
    }
    if (members === undefined) throw new CannotExpand(valueSet.url ?? '');
    return members;
  }

  #systemMembers(include: ValueSetComposeInclude, valueSet: ValueSet): string[] {
    const system = include.system ?? '';
    if (include.concept !== undefined && include.filter === undefined) return include.concept.map((concept) => concept.code);
    const codeSystem = this.#store.codeSystem(system, valueSet.id);
    if (codeSystem === undefined || codeSystem.content !== 'complete') throw new CannotExpand(system);
    let codes = conceptCodes(codeSystem.concept, []);
    for (const filter of include.filter ?? []) {
      const allowed = new Set(this.#filter(codeSystem, filter.property, filter.op, filter.value));
      codes = codes.filter((code) => allowed.has(code));
    }
    if (include.concept !== undefined) {
      const listed = new Set(include.concept.map((concept) => concept.code));
      codes = codes.filter((code) => listed.has(code));
    }
    return codes;
  }

  #filter(codeSystem: CodeSystem, property: string, op: string, value: string): string[] {
    if (property !== 'concept' || !['is-a', 'descendent-of', '='].includes(op)) throw new CannotExpand(codeSystem.url ?? '');
    const concept = findConcept(codeSystem.concept, value);
    if (concept === undefined) return [];
    if (op === '=') return [concept.code];
    const below = conceptCodes(concept.concept, []);
    return op === 'is-a' ? [concept.code, ...below] : below;
  }
}
