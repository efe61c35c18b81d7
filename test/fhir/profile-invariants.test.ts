/**
 * Every sip-* invariant evaluates, without throwing, to the same boolean in the `fhirpath` package
 * and in @medplum/core: true on every resource of every example's Bundle, false on the broken
 * variant made for it.
 */
import type { Bundle, Resource } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { RESOURCE_PROFILES } from '../../src/fhir/profiles/index.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { evaluateWithFhirpath, evaluateWithMedplum } from '../support/fhirpath-engines.js';
import { BREAKERS } from '../support/profile-breakers.js';

const invariants = RESOURCE_PROFILES.flatMap((definition) =>
  (definition.differential?.element ?? []).flatMap((element) => (element.constraint ?? []).map((constraint) => ({ type: definition.type, key: constraint.key, expression: constraint.expression ?? '' }))),
);

function resourcesOf(bundle: Bundle, type: string): Resource[] {
  if (type === 'Bundle') return [bundle];
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource?.resourceType === type ? [entry.resource] : []));
}

const BROKEN_EXAMPLE = 'adult-psychiatry-addiction.json';

describe('sip-* invariants in fhirpath and @medplum/core', () => {
  it('are all sip- prefixed, unique, and each has a broken variant', () => {
    const keys = invariants.map((invariant) => invariant.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(/^sip-[a-z]+-\d+$/);
    const broken = new Set(BREAKERS.map((breaker) => breaker.key));
    expect(keys.filter((key) => !broken.has(key))).toEqual([]);
  });

  describe.each(exampleFiles)('%s', (file) => {
    const bundle = planToBundle(readExample(file));
    it.each(invariants)('$key holds in both engines', ({ type, expression }) => {
      const resources = resourcesOf(bundle, type);
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(evaluateWithFhirpath(expression, resource)).toEqual([true]);
        expect(evaluateWithMedplum(expression, resource)).toEqual([true]);
      }
    });
  });

  describe.each(BREAKERS)('$key is broken by $what', ({ key, on, apply }) => {
    it('in both engines', () => {
      const bundle = structuredClone(planToBundle(readExample(BROKEN_EXAMPLE)));
      apply(bundle);
      const invariant = invariants.find((candidate) => candidate.key === key);
      expect(invariant?.type).toBe(on);
      const verdicts = resourcesOf(bundle, on).map((resource) => [
        JSON.stringify(evaluateWithFhirpath(invariant?.expression ?? '', resource)),
        JSON.stringify(evaluateWithMedplum(invariant?.expression ?? '', resource)),
      ]);
      expect(verdicts).toContainEqual(['[false]', '[false]']);
      for (const [fhirpathVerdict, medplumVerdict] of verdicts) expect(fhirpathVerdict).toBe(medplumVerdict);
    });
  });
});
