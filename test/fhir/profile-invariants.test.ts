/**
 * Every sip-* invariant evaluates, without throwing, to the same boolean in the `fhirpath` package
 * and in @medplum/core: true on every resource of every example's Bundle (but false, on the Bundle,
 * for the rule that refuses an example with no consent in force when sent), false on the broken
 * variant made for it.
 */
import type { Bundle, Consent, Resource } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { IDENTIFIER_SYSTEM, planToBundle } from '../../src/fhir/index.js';
import { shippedStructureDefinitions } from '../support/build-profiles.js';
import { NOT_SENDABLE, exampleFiles, readExample } from '../support/examples.js';
import { evaluateWithFhirpath, evaluateWithMedplum } from '../support/fhirpath-engines.js';
import { BREAKERS } from '../support/profile-breakers.js';

const invariants = shippedStructureDefinitions().filter((definition) => definition.type !== 'Extension').flatMap((definition) =>
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
    const refusedBy = NOT_SENDABLE[file];
    // A plan without municipal decisions has no ServiceRequest; every other profiled type is in every example.
    const present = invariants.filter(({ key, type }) => key !== refusedBy && (type !== 'ServiceRequest' || resourcesOf(bundle, type).length > 0));
    it.each(present)('$key holds in both engines', ({ type, expression }) => {
      const resources = resourcesOf(bundle, type);
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(evaluateWithFhirpath(expression, resource)).toEqual([true]);
        expect(evaluateWithMedplum(expression, resource)).toEqual([true]);
      }
    });
    it.each(invariants.filter(({ key }) => key === refusedBy))('$key fails on the Bundle in both engines: no consent is in force when it is sent', ({ type, expression }) => {
      expect(type).toBe('Bundle');
      expect(evaluateWithFhirpath(expression, bundle)).toEqual([false]);
      expect(evaluateWithMedplum(expression, bundle)).toEqual([false]);
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

  describe('a consent naming the plan by its sip-plan identifier instead of its fullUrl', () => {
    const consentRules = invariants.filter(({ key }) => ['sip-bdl-6', 'sip-bdl-7', 'sip-bdl-8'].includes(key));
    /** The example's Bundle with the consent's plan reference replaced by an identifier of `planId`. */
    const namingPlan = (planId: string): Bundle => {
      const bundle = structuredClone(planToBundle(readExample(BROKEN_EXAMPLE)));
      const consent = bundle.entry?.find((entry) => entry.resource?.resourceType === 'Consent')?.resource as Consent | undefined;
      const [data] = consent?.provision?.data ?? [];
      if (data === undefined) throw new Error('no consent data');
      data.reference = { type: 'CarePlan', identifier: { system: IDENTIFIER_SYSTEM.sipPlan, value: planId } };
      return bundle;
    };

    it('counts as the consent to the plan in both engines', () => {
      const bundle = namingPlan('sip-falun-2026-0142');
      expect(consentRules.map(({ key }) => key)).toEqual(['sip-bdl-6', 'sip-bdl-7', 'sip-bdl-8']);
      for (const { expression } of consentRules) {
        expect(evaluateWithFhirpath(expression, bundle)).toEqual([true]);
        expect(evaluateWithMedplum(expression, bundle)).toEqual([true]);
      }
    });

    it('naming another plan, it is no consent to this one (sip-bdl-6) in both engines', () => {
      const bundle = namingPlan('sip-falun-2026-9999');
      const expression = consentRules.find(({ key }) => key === 'sip-bdl-6')?.expression ?? '';
      expect(evaluateWithFhirpath(expression, bundle)).toEqual([false]);
      expect(evaluateWithMedplum(expression, bundle)).toEqual([false]);
    });
  });
});
