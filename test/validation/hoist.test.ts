/**
 * Hoisting `%resource` chains out of per-item evaluation (src/validation/hoist.ts):
 * - the rewriting, on expressions whose rewritten form was worked out by hand;
 * - differentially, the validator with hoisting, with the native ref-1/ext-1 checks, and with both
 *   and the result cache (the default) gives exactly the OperationOutcome of the validator that runs
 *   every expression as written through fhirpath.js, on: the Bundles of every example plan (valid, with
 *   warnings, and examples/invalid), the broken Bundle of every sip-* invariant
 *   (test/support/profile-breakers.ts), the official R4 examples broken one way each
 *   (mutation-corpus.ts), and generated plans (test/support/arbitraries.ts);
 * - the values kept for one resource are not reused for a changed resource.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import type { Bundle } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { PROFILE, planToBundle } from '../../src/fhir/index.js';
import { parsePlan } from '../../src/sip/index.js';
import { hoistInvariants } from '../../src/validation/hoist.js';
import { createValidator } from '../../src/validation/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { readExample } from '../support/examples.js';
import { BREAKERS } from '../support/profile-breakers.js';
import { MUTATION_CORPUS } from './mutation-corpus.js';

const asWritten = createValidator({ hoistInvariants: false, nativeChecks: false, rememberResults: false });
const hoisted = createValidator({ hoistInvariants: true, nativeChecks: false, rememberResults: false });
const native = createValidator({ hoistInvariants: false, nativeChecks: true, rememberResults: false });
const byDefault = createValidator();

describe('hoistInvariants', () => {
  it('replaces a %resource chain inside where() by a variable computed once', () => {
    expect(hoistInvariants("entry.where(fullUrl in %resource.entry.resource.ofType(CarePlan).careTeam.reference).exists()")).toEqual({
      expression: 'entry.where(fullUrl in %hoisted0).exists()',
      variables: [{ name: '%hoisted0', expression: '%resource.entry.resource.ofType(CarePlan).careTeam.reference', source: '%resource.entry.resource.ofType(CarePlan).careTeam.reference' }],
    });
  });

  it('hoists chains nested in a chain first, and the same chain once', () => {
    expect(hoistInvariants('%resource.entry.where(fullUrl in %rootResource.id).count() = %resource.entry.where(fullUrl in %rootResource.id).count()')).toEqual({
      expression: '%hoisted1 = %hoisted1',
      variables: [
        { name: '%hoisted0', expression: '%rootResource.id', source: '%rootResource.id' },
        { name: '%hoisted1', expression: '%resource.entry.where(fullUrl in %hoisted0).count()', source: '%resource.entry.where(fullUrl in %rootResource.id).count()' },
      ],
    });
  });

  it('leaves string literals, bare variables, other names and chains with unstable calls alone', () => {
    expect(hoistInvariants("name = '%resource.id' and %resourceX.a.exists() and %resource = %context")).toEqual({ expression: "name = '%resource.id' and %resourceX.a.exists() and %resource = %context", variables: [] });
    expect(hoistInvariants('%resource.period.start <= now() and %resource.a.where(b > now()).exists()')).toEqual({
      expression: '%hoisted0 <= now() and %resource.a.where(b > now()).exists()',
      variables: [{ name: '%hoisted0', expression: '%resource.period.start', source: '%resource.period.start' }],
    });
  });

  it("keeps a parenthesis inside a string literal of the chain's arguments", () => {
    expect(hoistInvariants("x in %resource.a.where(b = ')').c")).toEqual({
      expression: 'x in %hoisted0',
      variables: [{ name: '%hoisted0', expression: "%resource.a.where(b = ')').c", source: "%resource.a.where(b = ')').c" }],
    });
  });
});

function planBundles(directory: string): { name: string; bundle: Bundle }[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const parsed = parsePlan(JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as unknown);
      if (!parsed.ok) return [];
      try {
        return [{ name: `${directory}/${file}`, bundle: planToBundle(parsed.plan) }];
      } catch {
        return [];
      }
    });
}

function expectSameVerdicts(resource: unknown): void {
  const expected = asWritten.validate(resource, { profiles: (resource as { resourceType?: unknown }).resourceType === 'Bundle' ? [PROFILE.bundle] : [] });
  const options = { profiles: (resource as { resourceType?: unknown }).resourceType === 'Bundle' ? [PROFILE.bundle] : [] };
  expect(hoisted.validate(resource, options)).toEqual(expected);
  expect(native.validate(resource, options)).toEqual(expected);
  expect(byDefault.validate(resource, options)).toEqual(expected);
}

describe('hoisting, the native checks (src/validation/native.ts) and the result cache change no verdict', () => {
  const examples = [...planBundles('examples'), ...planBundles('examples/warnings'), ...planBundles('examples/invalid')];

  it('maps most example plans, valid and invalid, to Bundles', () => {
    expect(examples.length).toBeGreaterThanOrEqual(40);
  });

  it.each(examples.map(({ name, bundle }) => [name, bundle] as const))('%s', (_name, bundle) => {
    expectSameVerdicts(bundle);
  });

  it.each(BREAKERS.map((breaker) => [breaker.key, breaker.what, breaker] as const))('broken for %s (%s)', (_key, _what, breaker) => {
    const bundle = structuredClone(planToBundle(readExample('adult-psychiatry-addiction.json')));
    breaker.apply(bundle);
    expectSameVerdicts(bundle);
  });

  it('on the official examples broken one way each', () => {
    const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
    for (const row of MUTATION_CORPUS) {
      const resource = JSON.parse(readFileSync(path.join(examplesDir, row.example), 'utf8')) as unknown;
      row.mutate(resource);
      expectSameVerdicts(resource);
    }
  });

  it('on generated plans', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
        expectSameVerdicts(planToBundle(parsed.plan));
      }),
      { numRuns: 40 },
    );
  });
});

describe('values kept for a resource', () => {
  it('are not reused when the same Bundle object is changed and validated again', () => {
    const bundle = planToBundle(readExample('adult-psychiatry-addiction.json'));
    const rule = (outcome: ReturnType<typeof hoisted.validate>) => outcome.issue.map((issue) => issue.details?.coding?.[0]?.code);
    expect(rule(hoisted.validate(bundle, { profiles: [PROFILE.bundle] }))).not.toContain('sip-bdl-4');
    const breaker = BREAKERS.find((candidate) => candidate.key === 'sip-bdl-4');
    breaker?.apply(bundle);
    expect(rule(hoisted.validate(bundle, { profiles: [PROFILE.bundle] }))).toContain('sip-bdl-4');
  });
});
