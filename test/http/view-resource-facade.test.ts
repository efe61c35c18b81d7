/**
 * `viewResource` (src/http/derived-view.ts), what the facade serves for a resource of a plan's view
 * when it has no kept text of it (a Consent, `_include` / `_revinclude`, a type search, a history
 * entry, a transaction's representation, a version without kept texts), built from the entry's
 * facade resource (`PlanEntry.facadeResource`: the mapping wrote the references as `Type/id`):
 *
 * - byte for byte the JSON text of the former path, the entry mapped with the Bundle's fullUrls and
 *   rewritten as an object (`rewrittenViewResource`, test/support/former-reference-rewrite.ts), for
 *   every resource of every example plan, the plans read back from their SIP transaction Bundles,
 *   generated plans and the plans of the official transaction inputs, each mapped at two instants
 *   (a Consent's status and narrative are judged at the instant);
 * - apart from the entry's kept facade resource, which the former path's deep copy never shared: a
 *   change to what was served (its top-level members, its meta) reaches neither the kept resource nor
 *   a second read of it, and serving or subsetting (`_summary`, `_elements`) changes nothing of it.
 */
import type { FhirResource } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, planEntries, resourceIdOf, type PlanEntry } from '../../src/fhir/index.js';
import { viewResource } from '../../src/http/derived-view.js';
import { subsetResource, type Subset } from '../../src/http/fhir-subset.js';
import type { SipPlan } from '../../src/sip/index.js';
import { itOverDerivedTextCorpus } from '../support/derived-text-corpus.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { referenceTargets, rewrittenViewResource } from '../support/former-reference-rewrite.js';

const VERSION_ID = '7';
const LAST_UPDATED = '2026-04-01T08:00:00.000Z';
/** A late instant, after every example's consents have ended: the Consents are mapped otherwise than at the plan's own instant. */
const LATE = new Date('2031-01-01T00:00:00Z');

/** Each entry of the view with its facade id. */
function withIds(entries: readonly PlanEntry[]): { planEntry: PlanEntry; id: string }[] {
  return entries.flatMap((planEntry) => {
    const id = resourceIdOf(planEntry.key.fullUrl);
    return id === undefined ? [] : [{ planEntry, id }];
  });
}

/** Consents compared by {@link expectServedAsFormer}, so the test shows it met the type only the read maps. */
const compared = { consents: 0 };

/**
 * Every resource of the plan's view at `at` served from the facade form, against the former object
 * rewrite of the Bundle form, each from entries of its own (nothing mapped by one is seen by the other).
 * How many resources were compared.
 */
function expectServedAsFormerAt(plan: SipPlan, at: Date): number {
  const facadeEntries = withIds(planEntries(plan, DEFAULT_MAPPING_OPTIONS, at));
  const bundleEntries = planEntries(plan, DEFAULT_MAPPING_OPTIONS, at);
  const targets = referenceTargets(bundleEntries);
  const former = withIds(bundleEntries);
  expect(facadeEntries.map(({ planEntry, id }) => `${planEntry.resourceType}/${id}`)).toEqual(former.map(({ planEntry, id }) => `${planEntry.resourceType}/${id}`));
  facadeEntries.forEach(({ planEntry, id }, index) => {
    const formerEntry = former[index];
    if (formerEntry === undefined) throw new Error('the two views have the same entries');
    expect(JSON.stringify(viewResource(planEntry, id, VERSION_ID, LAST_UPDATED))).toBe(JSON.stringify(rewrittenViewResource(formerEntry.planEntry, id, targets, VERSION_ID, LAST_UPDATED)));
    if (planEntry.resourceType === 'Consent') compared.consents += 1;
  });
  return facadeEntries.length;
}

function expectServedAsFormer(plan: SipPlan): number {
  return expectServedAsFormerAt(plan, new Date(plan.updatedAt)) + expectServedAsFormerAt(plan, LATE);
}

describe('a resource served from the facade form, against the former rewrite of the Bundle form', () => {
  itOverDerivedTextCorpus(expectServedAsFormer, { perExample: 40, perGenerated: 10, official: 20 });

  it('meets Consents, which the read maps at its instant, in the examples', () => {
    compared.consents = 0;
    for (const file of exampleFiles) expectServedAsFormer(readExample(file));
    expect(compared.consents).toBeGreaterThan(exampleFiles.length);
  });
});

/** `value` and everything in it frozen: a change in place throws (ES modules are strict). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Every kind of subset a read may ask for. */
const SUBSETS: readonly Subset[] = [
  { kind: 'summary', mode: 'true' },
  { kind: 'summary', mode: 'text' },
  { kind: 'summary', mode: 'data' },
  { kind: 'elements', names: ['status', 'subject', 'meta'] },
];

/** Every entry of every example's view at the plan's instant, with its id. */
function exampleEntries(): { planEntry: PlanEntry; id: string }[] {
  return exampleFiles.flatMap((file) => {
    const plan = readExample(file);
    return withIds(planEntries(plan, DEFAULT_MAPPING_OPTIONS, new Date(plan.updatedAt)));
  });
}

describe('a served resource and the entry’s kept facade resource', () => {
  it('are apart at the top and in meta: changing what was served reaches neither the kept resource nor a second read', () => {
    const entries = exampleEntries();
    expect(entries.length).toBeGreaterThan(exampleFiles.length * 10);
    for (const { planEntry, id } of entries) {
      const kept = planEntry.facadeResource();
      const keptText = JSON.stringify(kept);
      const served = viewResource(planEntry, id, VERSION_ID, LAST_UPDATED);
      const servedText = JSON.stringify(served);
      expect(served).not.toBe(kept);
      expect(served.meta).not.toBe(kept.meta);
      // What a reader of the view could do to the resource it answers: its meta changed, its members replaced or removed.
      const meta = served.meta ?? {};
      meta.versionId = 'changed';
      meta.tag = [{ code: 'changed' }];
      delete meta.profile;
      const record = served as unknown as Record<string, unknown>;
      for (const key of Object.keys(record)) if (key !== 'resourceType' && key !== 'meta') record[key] = 'changed';
      record.added = true;
      expect(planEntry.facadeResource()).toBe(kept);
      expect(JSON.stringify(kept)).toBe(keptText);
      expect(JSON.stringify(viewResource(planEntry, id, VERSION_ID, LAST_UPDATED))).toBe(servedText);
    }
  });

  it('is not changed by serving it, nor by subsetting what was served: frozen, it is served, subset and served again alike', () => {
    const entries = exampleEntries();
    for (const { planEntry, id } of entries) {
      const kept = deepFreeze(planEntry.facadeResource());
      const keptText = JSON.stringify(kept);
      const served: FhirResource = viewResource(planEntry, id, VERSION_ID, LAST_UPDATED);
      const servedText = JSON.stringify(served);
      for (const subset of SUBSETS) expect(subsetResource(served, subset).resourceType).toBe(planEntry.resourceType);
      expect(JSON.stringify(served)).toBe(servedText);
      expect(JSON.stringify(kept)).toBe(keptText);
      expect(JSON.stringify(viewResource(planEntry, id, VERSION_ID, LAST_UPDATED))).toBe(servedText);
    }
    expect(entries.length).toBeGreaterThan(exampleFiles.length * 10);
  });
});
