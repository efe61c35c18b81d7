/**
 * The native SIP Bundle checks (src/validation/native-sip.ts: sip-bdl-1, -2, -4) against fhirpath.js
 * evaluating the profile's expression, on the example Bundles, the adult example broken by every
 * profile breaker, variants made by fast-check (care team references, coordinator roles, plan
 * statuses and entries changed), and generated plans: wherever the native check answers, it
 * answers the same; and it answers on all of these.
 */
import fc from 'fast-check';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import type { Bundle } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { parsePlan } from '../../src/sip/index.js';
import { SIP_NATIVE_CHECKS, sipBundleInvariants } from '../../src/validation/native-sip.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { BREAKERS } from '../support/profile-breakers.js';

const KEYS = ['sip-bdl-1', 'sip-bdl-2', 'sip-bdl-4'];
const cases = KEYS.map((key) => {
  const invariant = sipBundleInvariants().find((candidate) => candidate.key === key);
  if (invariant === undefined) throw new Error(`no ${key}`);
  const native = SIP_NATIVE_CHECKS.get(invariant.expression);
  if (native === undefined) throw new Error(`no native check for ${key}`);
  return { key, native, compiled: fhirpath.compile({ base: 'Bundle', expression: invariant.expression }, r4, { resolveInternalTypes: false }) as (node: unknown, env: object) => unknown[] };
});

const verdicts = new Map<string, Set<boolean>>();
/** Compares every check on the Bundle; returns how many the native checks decided. */
function compare(bundle: unknown): number {
  let decided = 0;
  for (const check of cases) {
    const native = check.native(bundle, { resource: bundle, rootResource: bundle });
    if (native === undefined) continue;
    decided += 1;
    const result = check.compiled(bundle, { resource: bundle, rootResource: bundle });
    expect(native, check.key).toBe(!(result.length === 1 && result[0] === false));
    const seen = verdicts.get(check.key) ?? new Set();
    seen.add(native);
    verdicts.set(check.key, seen);
  }
  return decided;
}

const adult = (): Bundle => structuredClone(planToBundle(readExample('adult-psychiatry-addiction.json')));
const careTeam = (bundle: Bundle) => bundle.entry?.find((entry) => entry.resource?.resourceType === 'CareTeam');
const carePlan = (bundle: Bundle) => bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource;

describe('the native SIP Bundle checks agree with fhirpath.js', () => {
  it('on the example Bundles and every profile breaker, deciding each, both ways', () => {
    for (const file of exampleFiles) expect(compare(planToBundle(readExample(file)))).toBe(cases.length);
    for (const breaker of BREAKERS) {
      const bundle = adult();
      breaker.apply(bundle);
      compare(bundle);
    }
    for (const key of KEYS) expect([...(verdicts.get(key) ?? [])].sort(), key).toEqual([false, true]);
  }, 120_000);

  it('on generated variants of the adult Bundle', () => {
    const edit = fc.record({
      type: fc.constantFrom('transaction', 'collection', 'batch', undefined),
      status: fc.constantFrom('active', 'draft', 'completed', undefined),
      teamRef: fc.constantFrom('same', 'other', 'none'),
      coordinators: fc.integer({ min: 0, max: 3 }),
      secondPlan: fc.boolean(),
      dropTeam: fc.boolean(),
      system: fc.constantFrom('same', 'other'),
    });
    fc.assert(
      fc.property(edit, (change) => {
        const bundle = adult();
        const json = bundle as unknown as Record<string, unknown>;
        if (change.type === undefined) delete json.type;
        else json.type = change.type;
        const plan = carePlan(bundle) as unknown as Record<string, unknown>;
        if (change.status === undefined) delete plan.status;
        else plan.status = change.status;
        const team = careTeam(bundle);
        if (team?.resource?.resourceType === 'CareTeam') {
          const participants = team.resource.participant ?? [];
          const coordinator = participants.find((participant) => participant.role?.some((role) => role.coding?.some((coding) => coding.code === 'coordinator')));
          const coding = coordinator?.role?.flatMap((role) => role.coding ?? []).find((item) => item.code === 'coordinator');
          if (coding !== undefined && change.system === 'other') coding.system = 'urn:example:other';
          const others = participants.filter((participant) => participant !== coordinator);
          team.resource.participant = [...others, ...Array.from({ length: change.coordinators }, () => structuredClone(coordinator ?? {}))];
          if (change.teamRef === 'other') team.fullUrl = 'urn:uuid:00000000-0000-4000-8000-000000000000';
          if (change.teamRef === 'none') delete plan.careTeam;
        }
        if (change.dropTeam) bundle.entry = bundle.entry?.filter((entry) => entry !== team);
        if (change.secondPlan) bundle.entry = [...(bundle.entry ?? []), { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: structuredClone(plan) as never }];
        expect(compare(bundle)).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('on generated plans', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
        expect(compare(planToBundle(parsed.plan))).toBe(cases.length);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
