/**
 * The derived texts written from the mapping in the facade's reference form (`Type/id`,
 * `PlanEntry.facadeResource`, src/fhir/write/context.ts `ReferenceForm`) against the path they
 * replace: the entry mapped with the Bundle's `urn:uuid` fullUrls (`entry()`), its text's
 * references rewritten to `Type/id` (`withReferencesRewritten` with `referenceTargets`, as
 * `derivedParts` does). Differential, over every example plan, the plans read back from their SIP
 * transaction Bundles (what `POST /fhir` records), generated plans and the plans read from the
 * official transaction inputs (test/fixtures/fhir):
 *
 * - each entry's facade resource as text is its Bundle resource's text rewritten, Consent included
 *   (the form is the mapping's, whatever reads it);
 * - `facadeParts` equals `derivedParts` for every entry the texts are kept for, and
 *   `derivedVersion(plan).texts` equals the texts of the rewrite path;
 * - the Bundle form is untouched: no reference of `entry()` is a facade reference.
 */
import { readFileSync } from 'node:fs';
import type { Bundle } from 'fhir/r4.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleToPlan, DEFAULT_MAPPING_OPTIONS, planEntries, planToBundle, resourceIdOf } from '../../src/fhir/index.js';
import { derivedParts, derivedVersion, facadeParts, referenceTargets, TIME_DEPENDENT_TYPES, withReferencesRewritten } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import type { DerivedText } from '../../src/store/plan-store.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

/** What the rewrite path keeps for `plan`: `derivedVersion`'s texts as they were before the facade form. */
function rewrittenTexts(plan: SipPlan): DerivedText[] {
  const entries = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
  const targets = referenceTargets(entries);
  return entries.flatMap((planEntry): DerivedText[] => {
    if (TIME_DEPENDENT_TYPES.has(planEntry.resourceType)) return [];
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    const parts = derivedParts(planEntry, id, targets);
    return parts === undefined ? [] : [{ resourceType: planEntry.resourceType, id, head: parts.head, tail: parts.tail }];
  });
}

/** Every `"reference":"…"` value of a JSON text. */
function referencesIn(text: string): string[] {
  return [...text.matchAll(/"reference":"([^"]*)"/g)].map((match) => match[1] ?? '');
}

/**
 * Holds the facade form to the rewrite for one plan, each entry in both forms from the same
 * entries (their two memos are apart); how many references the rewrite changed.
 */
function expectFacadeAsRewritten(plan: SipPlan): number {
  const entries = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
  const targets = referenceTargets(entries);
  const facadeTargets = new Set(targets.values());
  let rewritten = 0;
  for (const planEntry of entries) {
    const bundleText = JSON.stringify(planEntry.entry().resource);
    const facadeText = JSON.stringify(planEntry.facadeResource());
    expect(facadeText).toBe(withReferencesRewritten(bundleText, targets));
    const bundleReferences = referencesIn(bundleText);
    expect(bundleReferences.filter((reference) => facadeTargets.has(reference))).toEqual([]);
    rewritten += bundleReferences.filter((reference) => targets.has(reference)).length;
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined || TIME_DEPENDENT_TYPES.has(planEntry.resourceType)) continue;
    expect(facadeParts(planEntry, id)).toEqual(derivedParts(planEntry, id, targets));
  }
  expect(derivedVersion(plan).texts).toEqual(rewrittenTexts(plan));
  return rewritten;
}

/** A plan read from a FHIR Bundle, as the transaction route reads it. */
function readBack(bundle: unknown): SipPlan {
  const read = bundleToPlan(bundle);
  if (!read.ok) throw new Error(`the Bundle was not read: ${JSON.stringify(read.outcome).slice(0, 300)}`);
  return read.plan;
}

describe('derived texts from the facade form, against the rewrite of the Bundle form', () => {
  it('are the same for every example plan, and for each read back from its SIP transaction Bundle', () => {
    let rewritten = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      rewritten += expectFacadeAsRewritten(plan);
      rewritten += expectFacadeAsRewritten(readBack(JSON.parse(JSON.stringify(planToBundle(plan)))));
    }
    expect(rewritten).toBeGreaterThan(exampleFiles.length * 40);
  });

  it('are the same for generated plans, and for each read back from its Bundle', () => {
    let rewritten = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        rewritten += expectFacadeAsRewritten(parsed.plan);
        const read = bundleToPlan(JSON.parse(JSON.stringify(planToBundle(parsed.plan))));
        if (read.ok) rewritten += expectFacadeAsRewritten(read.plan);
      }),
      { numRuns: 150 },
    );
    expect(rewritten).toBeGreaterThan(150 * 10);
  });

  it('are the same for the plans read from the official transaction inputs of the FHIR reading tests', () => {
    let rewritten = 0;
    for (const name of ['ehr-transaction-relative-refs.json', 'ehr-standard-codes.json', 'server-searchset.json']) {
      const bundle = JSON.parse(readFileSync(new URL(`../fixtures/fhir/${name}`, import.meta.url), 'utf8')) as Bundle;
      rewritten += expectFacadeAsRewritten(readBack(bundle));
    }
    expect(rewritten).toBeGreaterThan(10);
  });
});
