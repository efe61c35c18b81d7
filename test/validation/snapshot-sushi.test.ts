/**
 * The project's own snapshot generator (src/validation/snapshot.ts, for profiles given without a
 * snapshot) gives, from each shipped profile's differential, the snapshot SUSHI built for it,
 * element by element. Two differences are normalised, each checked to be only what it says:
 *
 * 1. SUSHI unfolds an extension slice that a rule reaches into (the profiles fix each extension
 *    slice's `url`) with the extension's own definition; the generator leaves the slice folded, as a
 *    validator opens the extension's StructureDefinition for it anyway. Every element only SUSHI has
 *    must lie inside such a slice and equal, but for its id and path, the element of the extension's
 *    own snapshot it was copied from.
 * 2. The generator keeps the base's tooling extensions on an element where SUSHI leaves them out:
 *    `structuredefinition-standards-status` and `-normative-version` (the base's maturity, not the
 *    profile's) and `structuredefinition-explicit-type-name` (the class name code generators give a
 *    backbone element). They carry no rule; no other extension may differ.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { generateSnapshot } from '../../src/validation/snapshot.js';
import { coreDefinition, shippedStructureDefinitions } from '../support/build-profiles.js';

const TOOLING_EXTENSIONS = new Set([
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status',
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version',
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-explicit-type-name',
]);

const shipped = shippedStructureDefinitions();
const byUrl = new Map(shipped.map((definition) => [definition.url, definition]));
const lookup = (url: string): StructureDefinition | undefined => byUrl.get(url) ?? coreDefinition(url);

/** The generator's element with the tooling extensions SUSHI leaves out removed (normalisation 2). */
function withoutToolingExtensions(ours: ElementDefinition, sushi: ElementDefinition): ElementDefinition {
  if (sushi.extension !== undefined || ours.extension === undefined) return ours;
  const kept = ours.extension.filter((extension) => !TOOLING_EXTENSIONS.has(extension.url));
  const { extension: _dropped, ...rest } = ours;
  return kept.length === 0 ? rest : { ...rest, extension: kept };
}

/** For an element only SUSHI has: the element of the extension's own snapshot it unfolds (normalisation 1). */
function unfoldedFrom(element: ElementDefinition, snapshot: readonly ElementDefinition[]): ElementDefinition | undefined {
  const match = /^(.*?\.extension:[^.]+)\.(.+)$/.exec(element.id ?? '');
  if (match === null) return undefined;
  const [, sliceId = '', rest = ''] = match;
  const profile = snapshot.find((candidate) => candidate.id === sliceId)?.type?.[0]?.profile?.[0];
  const extension = profile === undefined ? undefined : byUrl.get(profile);
  return extension?.snapshot?.element.find((candidate) => candidate.id === `Extension.${rest}`);
}

const withoutPlace = (element: ElementDefinition | undefined): Omit<ElementDefinition, 'id' | 'path'> | undefined => {
  if (element === undefined) return undefined;
  const { id: _id, path: _path, ...rest } = element;
  return rest;
};

/** Every difference between the generator's snapshot and SUSHI's, after the two normalisations. */
function snapshotDifferences(definition: StructureDefinition): string[] {
  const { snapshot, ...differentialOnly } = definition;
  const sushi = snapshot?.element ?? [];
  const ours = generateSnapshot(differentialOnly, lookup).snapshot?.element ?? [];
  const oursById = new Map(ours.map((element) => [element.id, element]));
  const problems: string[] = [];
  const sushiIds = new Set(sushi.map((element) => element.id));
  for (const element of ours) if (!sushiIds.has(element.id)) problems.push(`${element.id ?? '?'}: only in ours`);
  for (const element of sushi) {
    const mine = oursById.get(element.id);
    if (mine === undefined) {
      if (!isDeepStrictEqual(withoutPlace(element), withoutPlace(unfoldedFrom(element, sushi)))) problems.push(`${element.id ?? '?'}: only in SUSHI's, and not the extension's own element`);
      continue;
    }
    const normalised = withoutToolingExtensions(mine, element);
    for (const key of new Set([...Object.keys(element), ...Object.keys(normalised)])) {
      const a: unknown = Object.entries(element).find(([name]) => name === key)?.[1];
      const b: unknown = Object.entries(normalised).find(([name]) => name === key)?.[1];
      if (!isDeepStrictEqual(a, b)) problems.push(`${element.id ?? '?'}.${key}: SUSHI ${JSON.stringify(a)}, ours ${JSON.stringify(b)}`);
    }
  }
  const order = (list: readonly ElementDefinition[], other: ReadonlyMap<string | undefined, unknown>) => list.map((element) => element.id).filter((id) => other.has(id));
  if (!isDeepStrictEqual(order(sushi, oursById), order(ours, new Map(sushi.map((element) => [element.id, element]))))) problems.push('the elements are in another order');
  return problems;
}

describe.each(shipped.map((definition) => [definition.id ?? '', definition] as const))('%s', (_id, definition) => {
  it("the generator's snapshot from the differential is SUSHI's, element by element", () => {
    expect(snapshotDifferences(definition)).toEqual([]);
  });
});

describe('the comparison', () => {
  const careplan = byUrl.get('http://sip-fhir-adapter.se/fhir/StructureDefinition/sip-careplan');
  if (careplan === undefined) throw new Error('no sip-careplan');

  it('sees a snapshot element SUSHI built differently', () => {
    const changed = structuredClone(careplan);
    const category = changed.snapshot?.element.find((element) => element.id === 'CarePlan.category');
    if (category === undefined) throw new Error('no CarePlan.category');
    category.max = '1';
    expect(snapshotDifferences(changed)).toEqual(['CarePlan.category.max: SUSHI "1", ours "*"']);
  });

  it('sees an unfolded extension element that is not the extension\'s own', () => {
    const changed = structuredClone(careplan);
    const url = changed.snapshot?.element.find((element) => element.id === 'CarePlan.extension:planVersion.url');
    if (url === undefined) throw new Error('no unfolded url');
    url.fixedUri = 'http://example.org/other';
    expect(snapshotDifferences(changed)).toEqual(["CarePlan.extension:planVersion.url: only in SUSHI's, and not the extension's own element"]);
  });

  it('sees a differential rule the generator would place differently from SUSHI', () => {
    const changed = structuredClone(careplan);
    const author = changed.differential?.element.find((element) => element.id === 'CarePlan.author');
    if (author === undefined) throw new Error('no CarePlan.author');
    author.min = 1;
    expect(snapshotDifferences(changed)).toEqual(['CarePlan.author.min: SUSHI 0, ours 1']);
  });
});
