/**
 * The derived texts of a version (src/http/derived-view.ts) written in one pass — the mapped resource
 * stringified as it is with `id` and the version's meta spliced in, its references rewritten by an
 * `indexOf` scan — against the computation they replace, kept here as the reference: a copy of the
 * resource with `id` and meta put first, stringified, and the lookbehind regular expression over it
 * (docs/performance.md "Derived texts in one pass"). Old and new must give the same strings:
 *
 * - `withReferencesRewritten` on any text (fragments that make or break a match: escapes, line
 *   terminators after a backslash, unterminated values), on generated JSON, and on the JSON text of
 *   every official R4 example with targets for its references;
 * - `viewResourceText` on resources of every shape (an `id` of their own, no `meta`, a meta naming
 *   `versionId` or `lastUpdated`, keys in any order) and on every resource the mapping writes; and
 *   what src serves in their stead, `viewResource` and `facadeParts` of the resource with its
 *   references already `Type/id` (as `PlanEntry.facadeResource` writes them), on the same shapes;
 * - `derivedVersion`'s texts for every example plan, generated plans, the plans read back from their
 *   SIP transaction Bundles (what `POST /fhir` records), and the plans read from the official
 *   transaction inputs the FHIR reading tests use (test/fixtures/fhir).
 *
 * The text rewrite and `viewResourceText` left src when the mapping came to write the facade's
 * references itself; they are test/support/former-reference-rewrite.ts, the oracle of
 * test/http/derived-facade-texts.test.ts, and are held here to the expression they replaced.
 */
import type { FhirResource } from 'fhir/r4.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlanEntry } from '../../src/fhir/index.js';
import { derivedVersion, facadeParts, viewResource } from '../../src/http/derived-view.js';
import type { SipPlan } from '../../src/sip/index.js';
import type { DerivedText } from '../../src/store/plan-store.js';
import { referenceLookAlikeJson } from '../support/arbitraries.js';
import { itOverDerivedTextCorpus, keptTextsOf } from '../support/derived-text-corpus.js';
import { derivedParts, relativeReferences, viewResourceText, withReferencesRewritten } from '../support/former-reference-rewrite.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';

/** The former rewrite, verbatim: the reference. */
const FORMER_REFERENCE_TEXT = /(?<=[{,])"reference":"((?:[^"\\]|\\.)*)"/g;
function formerRewrite(text: string, targets: ReadonlyMap<string, string>): string {
  if (!text.includes('"reference":"')) return text;
  return text.replace(FORMER_REFERENCE_TEXT, (whole, raw: string) => {
    const value = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
    const target = targets.get(value);
    return target === undefined ? whole : `"reference":${JSON.stringify(target)}`;
  });
}

/** The former text of a resource of the view, verbatim: a copy with `id` and meta first, stringified, rewritten. */
function formerResourceText(mapped: FhirResource, id: string, targets: ReadonlyMap<string, string>, versionId: string, lastUpdated: string): string {
  const { resourceType, meta, ...rest } = mapped;
  return formerRewrite(JSON.stringify({ resourceType, id, meta: { ...meta, versionId, lastUpdated }, ...rest }), targets);
}

const VERSION_MARK = 'sip-derived-version-id';
const UPDATED_MARK = 'sip-derived-last-updated';
const MARK_TEXT = `"versionId":"${VERSION_MARK}","lastUpdated":"${UPDATED_MARK}"`;

/** The former text split where the mark is, as the former `derivedVersion` split it: undefined unless it occurs once. */
function formerParts(mapped: FhirResource, id: string, targets: ReadonlyMap<string, string>): { head: string; tail: string } | undefined {
  const text = formerResourceText(mapped, id, targets, VERSION_MARK, UPDATED_MARK);
  const at = text.indexOf(MARK_TEXT);
  if (at < 0 || text.includes(MARK_TEXT, at + 1)) return undefined;
  return { head: text.slice(0, at), tail: text.slice(at + MARK_TEXT.length) };
}

/** The former `derivedVersion(plan).texts`: the entries it kept, each split by {@link formerParts}. */
function formerTexts(plan: SipPlan): DerivedText[] {
  return keptTextsOf(plan, (planEntry, id, targets) => {
    const mapped = planEntry.entry().resource;
    if (mapped === undefined) throw new Error('no resource');
    return formerParts(mapped, id, targets);
  });
}

/** Both rewrites' outcome on one text: the same string, or both throwing (an escape JSON.parse refuses). */
function expectSameRewrite(text: string, targets: ReadonlyMap<string, string>): boolean {
  let former: string | undefined;
  try {
    former = formerRewrite(text, targets);
  } catch {
    expect(() => withReferencesRewritten(text, targets)).toThrow();
    return false;
  }
  const now = withReferencesRewritten(text, targets);
  expect(now).toBe(former);
  return now !== text;
}

describe('references rewritten by the indexOf scan, against the former regular expression', () => {
  const targets = new Map([
    ['urn:uuid:0b0e7f4e-1', 'Patient/p1'],
    ['urn:uuid:with"quote', 'Goal/g"1'],
    ['urn:uuid:back\\slash', 'Goal/g\\2'],
    ['ünïcode\u2028', 'CareTeam/ct'],
    ['', 'Task/empty'],
  ]);

  it('agree on any text built of what makes or breaks a match', () => {
    const fragment = fc.oneof(
      fc.constantFrom('"reference":"', '{', ',', '"', '\\', '\\"', '\\\\', '\\n', '\n', '\r', '\u2028', '\u2029', 'urn:uuid:0b0e7f4e-1', 'urn:uuid:with\\"quote', 'urn:uuid:back\\\\slash', 'ünïcode\u2028', '\\u00fc', '\\x', '\ud800', ':'),
      fc.string({ maxLength: 3 }),
    );
    // A property's opening, what may stand before it, a value of fragments, and a closing quote or none.
    const property = fc
      .tuple(fc.constantFrom('{', ',', '[', 'x', ''), fc.array(fragment, { maxLength: 4 }), fc.constantFrom('"', '', '\\"'))
      .map(([before, value, closing]) => `${before}"reference":"${value.join('')}${closing}`);
    let rewritten = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof(fragment, property), { maxLength: 16 }), (parts) => {
        if (expectSameRewrite(parts.join(''), targets)) rewritten += 1;
      }),
      { numRuns: 20_000 },
    );
    expect(rewritten).toBeGreaterThan(100);
  });

  it('agree on generated JSON text', () => {
    const json = referenceLookAlikeJson(targets.keys());
    let rewritten = 0;
    fc.assert(
      fc.property(json, (value) => {
        if (expectSameRewrite(JSON.stringify(value), targets)) rewritten += 1;
      }),
      { numRuns: 5_000 },
    );
    expect(rewritten).toBeGreaterThan(10);
  });

  it('agree on the JSON text of every official R4 example, its references given targets', () => {
    const files = listOfficialExamples();
    expect(files.length).toBeGreaterThan(1000);
    let rewritten = 0;
    for (const file of files) {
      const text = JSON.stringify(readOfficialExample(file));
      const references = [...text.matchAll(/"reference":"((?:[^"\\]|\\.)*)"/g)].map((match) => JSON.parse(`"${match[1] ?? ''}"`) as string);
      // Every other reference named, so both rewritten and kept ones are met.
      const named = new Map(references.filter((_, index) => index % 2 === 0).map((reference) => [reference, `Rewritten/${reference.length.toString()}`]));
      if (expectSameRewrite(text, named)) rewritten += 1;
    }
    expect(rewritten).toBeGreaterThan(500);
  });
});

/** A plan entry holding `resource` as its mapping, for resources the mapping does not write. */
function entryOf(resource: FhirResource): PlanEntry {
  return { resourceType: resource.resourceType, key: { resourceType: resource.resourceType, fullUrl: 'urn:uuid:0', identifier: { system: 'x', value: 'y' } } as PlanEntry['key'], entry: () => ({ resource }), facadeResource: () => resource };
}

/** A plan entry whose facade form is `resource` with its references rewritten to `targets`, as the mapping writes them for the facade. */
function facadeEntryOf(resource: FhirResource, targets: ReadonlyMap<string, string>): PlanEntry {
  const facade = relativeReferences(resource, targets) as FhirResource;
  return { ...entryOf(resource), facadeResource: () => facade };
}

/** The former text and split of `mapped`, a resource of any shape, against the text rewrite's and against what src serves for it in the facade's form. */
function expectFacadeAsFormer(mapped: FhirResource, id: string, targets: ReadonlyMap<string, string>): void {
  const former = formerResourceText(mapped, id, targets, VERSION_MARK, UPDATED_MARK);
  expect(viewResourceText(entryOf(mapped), id, targets, VERSION_MARK, UPDATED_MARK)).toBe(former);
  expect(derivedParts(entryOf(mapped), id, targets)).toEqual(formerParts(mapped, id, targets));
  expect(JSON.stringify(viewResource(facadeEntryOf(mapped, targets), id, VERSION_MARK, UPDATED_MARK))).toBe(former);
  expect(facadeParts(facadeEntryOf(mapped, targets), id)).toEqual(formerParts(mapped, id, targets));
}

describe('a resource text spliced, against the copy stringified', () => {
  const targets = new Map([['urn:uuid:1', 'Patient/1']]);

  it('agree on resources of every shape, keys in any order', () => {
    const metaArbitrary = fc.oneof(
      fc.constant(undefined),
      fc.record(
        {
          profile: fc.array(fc.constantFrom('http://x/p', 'a"b', ''), { maxLength: 2 }),
          versionId: fc.constantFrom('3', VERSION_MARK),
          lastUpdated: fc.constant('2026-01-01T00:00:00Z'),
          tag: fc.constantFrom([{ code: 'c' }], [{ versionId: VERSION_MARK, lastUpdated: UPDATED_MARK }], [{ reference: 'urn:uuid:1' }]),
        },
        { requiredKeys: [] },
      ),
    );
    const member = fc.tuple(fc.constantFrom('id', 'meta', 'status', 'subject', 'text', 'reference', 'resourceType'), fc.oneof(fc.string({ maxLength: 4 }), fc.constant({ reference: 'urn:uuid:1' }), metaArbitrary, fc.constant(null), fc.constant({ versionId: VERSION_MARK, lastUpdated: UPDATED_MARK }), fc.constant(MARK_TEXT)));
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), metaArbitrary, fc.boolean(), fc.constantFrom('7', 'a"b'), (members, meta, resourceTypeFirst, id) => {
        const resource: Record<string, unknown> = resourceTypeFirst ? { resourceType: 'Goal' } : {};
        if (meta !== undefined) resource.meta = meta;
        for (const [name, value] of members) if (name !== 'resourceType') resource[name] = value;
        resource.resourceType = 'Goal';
        // The parsed-JSON boundary of the test: generated members of any type, as a resource might hold them.
        const mapped = resource as unknown as FhirResource;
        expectFacadeAsFormer(mapped, id, targets);
      }),
      { numRuns: 5_000 },
    );
  });

  it('agree on the shapes named: an id of its own, no meta, an empty meta, a meta naming versionId or lastUpdated, meta first', () => {
    const shapes = [
      { resourceType: 'Goal', id: 'own', meta: { profile: ['p'] }, subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', meta: {}, subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', meta: {} },
      { resourceType: 'Goal', meta: { versionId: '2', profile: ['p'] } },
      { resourceType: 'Goal', meta: { lastUpdated: '2026-01-01T00:00:00Z' } },
      { meta: { profile: ['p'] }, resourceType: 'Goal', subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', meta: { profile: ['p'] }, status: undefined, subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', meta: { profile: ['p'], source: undefined }, note: [{ text: MARK_TEXT }] },
      { resourceType: 'Goal', meta: { profile: ['p'] }, note: [{ versionId: VERSION_MARK, lastUpdated: UPDATED_MARK }] },
      { resourceType: 'Goal', meta: { tag: [{ versionId: VERSION_MARK, lastUpdated: UPDATED_MARK }] }, subject: { reference: 'urn:uuid:1' } },
      { resourceType: 'Goal', meta: { tag: [{ reference: 'urn:uuid:1' }] }, subject: { reference: 'urn:uuid:1' } },
    ];
    for (const shape of shapes) {
      // As above: shapes the types do not allow are the point.
      const mapped = shape as unknown as FhirResource;
      expectFacadeAsFormer(mapped, 'g1', targets);
    }
  });
});

/** `derivedVersion(plan).texts` equal to the former ones, and how many were compared. */
function expectTextsAsFormer(plan: SipPlan): number {
  const texts = derivedVersion(plan).texts;
  expect(texts).toEqual(formerTexts(plan));
  return texts.length;
}

describe('derived texts in one pass, against the former computation', () => {
  itOverDerivedTextCorpus(expectTextsAsFormer, { perExample: 20, perGenerated: 5, official: 10 });
});
