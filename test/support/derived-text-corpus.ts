/**
 * The plans the derived-text differential tests run over (test/http/derived-text-one-pass.test.ts,
 * test/http/derived-facade-texts.test.ts, test/http/view-resource-facade.test.ts): every example plan and the plan read back from its SIP
 * transaction Bundle (what `POST /fhir` records), generated plans and their read-backs, and the plans
 * read from the official transaction inputs of the FHIR reading tests (test/fixtures/fhir).
 */
import { readFileSync } from 'node:fs';
import type { Bundle } from 'fhir/r4.js';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { bundleToPlan, DEFAULT_MAPPING_OPTIONS, planEntries, planToBundle, resourceIdOf, type PlanEntry } from '../../src/fhir/index.js';
import { TIME_DEPENDENT_TYPES } from '../../src/http/derived-view.js';
import { parsePlan, type SipPlan } from '../../src/sip/index.js';
import type { DerivedText } from '../../src/store/plan-store.js';
import { mappablePlanArbitrary } from './arbitraries.js';
import { exampleFiles, readExample } from './examples.js';
import { referenceTargets } from './former-reference-rewrite.js';

/**
 * The texts a version keeps as `derivedVersion` picks them (every entry but the time-dependent types,
 * under the id of its fullUrl), each split by `partsOf`: a reference path's texts to hold the code's to.
 */
export function keptTextsOf(plan: SipPlan, partsOf: (planEntry: PlanEntry, id: string, targets: ReadonlyMap<string, string>) => { head: string; tail: string } | undefined): DerivedText[] {
  const entries = planEntries(plan, DEFAULT_MAPPING_OPTIONS);
  const targets = referenceTargets(entries);
  return entries.flatMap((planEntry): DerivedText[] => {
    if (TIME_DEPENDENT_TYPES.has(planEntry.resourceType)) return [];
    const id = resourceIdOf(planEntry.key.fullUrl);
    if (id === undefined) return [];
    const parts = partsOf(planEntry, id, targets);
    return parts === undefined ? [] : [{ resourceType: planEntry.resourceType, id, head: parts.head, tail: parts.tail }];
  });
}

/** A plan read from a FHIR Bundle, as the transaction route reads it. */
export function readBack(bundle: unknown): SipPlan {
  const read = bundleToPlan(bundle);
  if (!read.ok) throw new Error(`the Bundle was not read: ${JSON.stringify(read.outcome).slice(0, 300)}`);
  return read.plan;
}

/** The fewest comparisons each part of the corpus must make, so a check that compares nothing fails. */
export interface CorpusMinimums {
  /** Per example file (the plan and its read-back together). */
  readonly perExample: number;
  /** Per generated plan (the plan and its read-back together). */
  readonly perGenerated: number;
  /** Over the official inputs together. */
  readonly official: number;
}

/**
 * Three tests, inside the caller's `describe`: `check` (which asserts, and returns how many things it
 * compared) over each part of the corpus, and each part's count above its minimum.
 */
export function itOverDerivedTextCorpus(check: (plan: SipPlan) => number, minimums: CorpusMinimums): void {
  it('are the same for every example plan, and for each read back from its SIP transaction Bundle', () => {
    let compared = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      compared += check(plan);
      compared += check(readBack(JSON.parse(JSON.stringify(planToBundle(plan)))));
    }
    expect(compared).toBeGreaterThan(exampleFiles.length * minimums.perExample);
  });

  it('are the same for generated plans, and for each read back from its Bundle', () => {
    let compared = 0;
    const runs = 150;
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        compared += check(parsed.plan);
        const read = bundleToPlan(JSON.parse(JSON.stringify(planToBundle(parsed.plan))));
        if (read.ok) compared += check(read.plan);
      }),
      { numRuns: runs },
    );
    expect(compared).toBeGreaterThan(runs * minimums.perGenerated);
  });

  it('are the same for the plans read from the official transaction inputs of the FHIR reading tests', () => {
    let compared = 0;
    for (const name of ['ehr-transaction-relative-refs.json', 'ehr-standard-codes.json', 'server-searchset.json']) {
      const bundle = JSON.parse(readFileSync(new URL(`../fixtures/fhir/${name}`, import.meta.url), 'utf8')) as Bundle;
      compared += check(readBack(bundle));
    }
    expect(compared).toBeGreaterThan(minimums.official);
  });
}
