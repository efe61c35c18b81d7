/**
 * `_summary` and `_elements`: a client asks for part of each resource it reads or searches
 * (https://hl7.org/fhir/R4/search.html#summary and #elements).
 *
 * - `_summary=true`: only the elements the resource's base definition marks `isSummary`
 *   (ElementDefinition.isSummary); inside a summary backbone element, only its summary children.
 * - `_summary=text`: `text`, `id`, `meta` and the top-level mandatory elements.
 * - `_summary=data`: everything but `text`.
 * - `_summary=false`: everything (as without it); `_summary=count` is a search's alone.
 * - `_elements=a,b`: the top-level elements named, with `id`, `meta` and the mandatory elements, which
 *   the server "SHOULD always return … whether they are requested or not".
 *
 * A subset is marked with the tag SUBSETTED (v3 ObservationValue) so that it is never taken for the
 * whole resource and written back over it (search.html#summary: "… the server SHOULD mark the
 * resources with the tag SUBSETTED …"). What an element is comes from the base R4
 * StructureDefinitions of `hl7.fhir.r4.examples`, read once per resource type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request } from 'express';
import type { Coding, ElementDefinition, FhirResource, StructureDefinition } from 'fhir/r4.js';
import { basePackageDirectory } from '../validation/definitions.js';
import { HttpError } from './problem.js';
import { occurrences } from './query-params.js';

/** What part of each resource a request asks for. */
export type Subset = { readonly kind: 'summary'; readonly mode: 'true' | 'text' | 'data' } | { readonly kind: 'elements'; readonly names: readonly string[] };

/** The tag of a resource answered in part (https://hl7.org/fhir/R4/v3/ObservationValue/cs.html, SUBSETTED). */
export const SUBSETTED: Readonly<Coding> = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/** One element of a resource's base definition, as subsetting needs it. */
interface ElementInfo {
  /** The element's name, `[x]` removed for a choice. */
  readonly name: string;
  readonly choice: boolean;
  readonly summary: boolean;
  readonly mandatory: boolean;
  /** The children of a backbone element defined in place (none for a data type's element). */
  readonly children: readonly ElementInfo[];
}

const definitions = new Map<string, readonly ElementInfo[]>();

/** The children of `parent` among a snapshot's elements (sorted as the snapshot is: parents first). */
function childrenOf(elements: readonly ElementDefinition[], parent: string): ElementInfo[] {
  const prefix = `${parent}.`;
  return elements
    .filter((element) => element.path.startsWith(prefix) && !element.path.slice(prefix.length).includes('.'))
    .map((element) => {
      const last = element.path.slice(prefix.length);
      const choice = last.endsWith('[x]');
      return {
        name: choice ? last.slice(0, -3) : last,
        choice,
        summary: element.isSummary === true,
        mandatory: (element.min ?? 0) > 0,
        children: childrenOf(elements, element.path),
      };
    });
}

/**
 * The top-level elements of `type` by its base definition; undefined for a type the package does not
 * define. Kept per type: the resource types are a finite set.
 */
export function elementsOf(type: string): readonly ElementInfo[] | undefined {
  const known = definitions.get(type);
  if (known !== undefined) return known;
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return undefined;
  let definition: StructureDefinition;
  try {
    // The parsed-JSON boundary: a base StructureDefinition of the official package.
    definition = JSON.parse(readFileSync(path.join(basePackageDirectory(), `StructureDefinition-${type}.json`), 'utf8')) as StructureDefinition;
  } catch {
    return undefined;
  }
  if (definition.kind !== 'resource' || definition.snapshot === undefined) return undefined;
  const elements = childrenOf(definition.snapshot.element, type);
  definitions.set(type, elements);
  return elements;
}

/** The element of `elements` a JSON property is the value of (`valueString` is `value[x]`'s). */
function elementFor(elements: readonly ElementInfo[], property: string): ElementInfo | undefined {
  const bare = property.startsWith('_') ? property.slice(1) : property;
  return elements.find((element) => (element.choice ? bare.startsWith(element.name) && /^[A-Z]/.test(bare.slice(element.name.length)) : bare === element.name));
}

/**
 * The subset a request asks for, or undefined for the whole resource; 400 for a value R4 does not
 * define, `_summary=count` where nothing is counted, or both parameters at once.
 */
export function requestedSubset(request: Request, options: { readonly search: boolean }): Subset | undefined {
  const summaries = occurrences(request, '_summary');
  const elements = occurrences(request, '_elements');
  if (summaries.length > 1) throw new HttpError(400, 'Bad Request', 'Give _summary once');
  const [summary] = summaries;
  const modes = options.search ? ['true', 'text', 'data', 'count', 'false'] : ['true', 'text', 'data', 'false'];
  if (summary !== undefined && !modes.includes(summary)) throw new HttpError(400, 'Bad Request', `_summary=${summary}: one of ${modes.join(', ')}`);
  if (elements.length > 0 && summary !== undefined && summary !== 'false') throw new HttpError(400, 'Bad Request', 'Give _summary or _elements, not both');
  if (elements.length > 0) {
    const names = elements.flatMap((value) => value.split(',')).map((name) => name.trim());
    if (names.some((name) => name === '')) throw new HttpError(400, 'Bad Request', '_elements: a comma-separated list of element names, none empty');
    return { kind: 'elements', names };
  }
  return summary === 'true' || summary === 'text' || summary === 'data' ? { kind: 'summary', mode: summary } : undefined;
}

/** 400 naming each `_elements` name that is no top-level element of `type`. */
export function checkElementNames(subset: Subset | undefined, type: string): void {
  if (subset?.kind !== 'elements') return;
  const elements = elementsOf(type) ?? [];
  const unknown = subset.names.filter((name) => !elements.some((element) => element.name === name.replace(/\[x\]$/, '') || (element.choice && elementFor([element], name) !== undefined)));
  if (unknown.length > 0) throw new HttpError(400, 'Bad Request', `_elements: ${type} has no element ${unknown.join(', ')} (https://hl7.org/fhir/R4/${type.toLowerCase()}.html)`);
}

/** The members of `value` (an object of a resource) that `keep` keeps, in their order. */
function kept(value: Readonly<Record<string, unknown>>, elements: readonly ElementInfo[], keep: (element: ElementInfo) => boolean, inner: (element: ElementInfo, member: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [property, member] of Object.entries(value)) {
    const element = elementFor(elements, property);
    if (element !== undefined && keep(element)) out[property] = inner(element, member);
  }
  return out;
}

/** Only the summary elements of a backbone element's value (or of each of its values). */
function summaryOfMember(element: ElementInfo, member: unknown): unknown {
  if (element.children.length === 0) return member;
  const one = (item: unknown): unknown =>
    typeof item === 'object' && item !== null && !Array.isArray(item) ? kept(item as Record<string, unknown>, element.children, (child) => child.summary, summaryOfMember) : item;
  return Array.isArray(member) ? member.map(one) : one(member);
}

/** `resource` with `SUBSETTED` among its meta's tags. */
function tagged(resource: Record<string, unknown>): Record<string, unknown> {
  const meta = (typeof resource.meta === 'object' && resource.meta !== null ? resource.meta : {}) as { tag?: Coding[] };
  const tags = (meta.tag ?? []).filter((tag) => !(tag.system === SUBSETTED.system && tag.code === SUBSETTED.code));
  return { ...resource, meta: { ...meta, tag: [...tags, { ...SUBSETTED }] } };
}

/**
 * The part of `resource` that `subset` asks for, tagged SUBSETTED; the resource itself for a type
 * the base package does not define. `resourceType`, `id` and `meta` are always kept.
 */
export function subsetResource(resource: FhirResource, subset: Subset): FhirResource {
  const elements = elementsOf(resource.resourceType);
  if (elements === undefined) return resource;
  const always = (element: ElementInfo): boolean => element.name === 'id' || element.name === 'meta';
  const whole = (_element: ElementInfo, member: unknown): unknown => member;
  let keep: (element: ElementInfo) => boolean;
  let inner = whole;
  if (subset.kind === 'elements') {
    const names = new Set(subset.names.map((name) => name.replace(/\[x\]$/, '')));
    keep = (element) => always(element) || element.mandatory || names.has(element.name) || subset.names.some((name) => element.choice && elementFor([element], name) !== undefined);
  } else if (subset.mode === 'true') {
    keep = (element) => always(element) || element.summary;
    inner = summaryOfMember;
  } else if (subset.mode === 'text') {
    keep = (element) => always(element) || element.mandatory || element.name === 'text';
  } else {
    keep = (element) => element.name !== 'text';
  }
  const record = resource as unknown as Record<string, unknown>;
  return tagged({ resourceType: resource.resourceType, ...kept(record, elements, keep, inner) }) as unknown as FhirResource;
}

/** {@link subsetResource} of a resource's JSON text: the text itself when nothing is asked. */
export function subsetText(text: string, subset: Subset | undefined): string {
  // The parsed-JSON boundary: a resource text this server wrote.
  return subset === undefined ? text : JSON.stringify(subsetResource(JSON.parse(text) as FhirResource, subset));
}
