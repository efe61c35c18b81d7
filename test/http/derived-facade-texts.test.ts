/**
 * The derived texts written from the mapping in the facade's reference form (`Type/id`,
 * `PlanEntry.facadeResource`, src/fhir/write/context.ts `ReferenceForm`) against the path they
 * replace: the entry mapped with the Bundle's `urn:uuid` fullUrls (`entry()`), its text's
 * references rewritten to `Type/id` (`withReferencesRewritten` with `referenceTargets`, as
 * `derivedParts` did: test/support/former-reference-rewrite.ts, which keeps the former src apart from
 * the code it is held to). Differential, over every example plan, the plans read back from their SIP
 * transaction Bundles (what `POST /fhir` records), generated plans and the plans read from the
 * official transaction inputs (test/fixtures/fhir):
 *
 * - each entry's facade resource as text is its Bundle resource's text rewritten, Consent included
 *   (the form is the mapping's, whatever reads it);
 * - `facadeParts` equals `derivedParts` for every entry the texts are kept for, and
 *   `derivedVersion(plan).texts` equals the texts of the rewrite path;
 * - the Bundle form is untouched: no reference of `entry()` is a facade reference.
 */
import { describe, expect } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdOf } from '../../src/fhir/index.js';
import { derivedVersion, facadeParts, TIME_DEPENDENT_TYPES } from '../../src/http/derived-view.js';
import type { SipPlan } from '../../src/sip/index.js';
import type { DerivedText } from '../../src/store/plan-store.js';
import { itOverDerivedTextCorpus, keptTextsOf } from '../support/derived-text-corpus.js';
import { derivedParts, referenceTargets, withReferencesRewritten } from '../support/former-reference-rewrite.js';

/** What the rewrite path keeps for `plan`: `derivedVersion`'s texts as they were before the facade form. */
function rewrittenTexts(plan: SipPlan): DerivedText[] {
  return keptTextsOf(plan, derivedParts);
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

describe('derived texts from the facade form, against the rewrite of the Bundle form', () => {
  itOverDerivedTextCorpus(expectFacadeAsRewritten, { perExample: 40, perGenerated: 10, official: 10 });
});
