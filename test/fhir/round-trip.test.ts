/**
 * SIP → FHIR → SIP gives the plan back, up to the documented normal form (src/fhir/normal-form.ts),
 * for every example and for generated plans; and a person with protected identity leaves no address,
 * telecom or free-text place anywhere in the Bundle, narrative included.
 */
import fc from 'fast-check';
import type { Bundle } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { PROTECTED_LOCATION_TEXT, bundleToPlan, fhirNormalForm, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { checkPlan, parsePlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

/** What a receiver gets: the Bundle as JSON text, parsed again. */
function overTheWire(bundle: Bundle): unknown {
  return JSON.parse(JSON.stringify(bundle)) as unknown;
}

function roundTrip(plan: SipPlan): SipPlan {
  const result = bundleToPlan(overTheWire(planToBundle(plan)));
  if (!result.ok) throw new Error(JSON.stringify(result.outcome.issue, null, 2));
  return result.plan;
}

describe('round trip of the examples', () => {
  it.each(exampleFiles)('%s comes back equal to its normal form, with nothing reported unmapped', (file) => {
    const plan = readExample(file);
    const result = bundleToPlan(overTheWire(planToBundle(plan)));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan).toEqual(fhirNormalForm(plan));
    expect(result.outcome.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: 'All entries were mapped' }]);
  });

  it.each(exampleFiles)('%s read back still passes every rule', (file) => {
    const problems = checkPlan(roundTrip(readExample(file))).filter((problem) => problem.severity === 'error');
    expect(problems).toEqual([]);
  });

  it('normal form is a fixed point: mapping it again changes nothing', () => {
    for (const file of exampleFiles) {
      const normal = fhirNormalForm(readExample(file));
      expect(roundTrip(normal)).toEqual(normal);
      expect(planToBundle(normal)).toEqual(planToBundle(readExample(file)));
    }
  });
});

describe('round trip of generated plans', () => {
  it('from-fhir(to-fhir(plan)) equals the plan in normal form, and to-fhir is deterministic', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
        expect(roundTrip(parsed.plan)).toEqual(fhirNormalForm(parsed.plan));
        expect(JSON.stringify(planToBundle(parsed.plan))).toBe(JSON.stringify(planToBundle(structuredClone(parsed.plan))));
      }),
      { numRuns: 150 },
    );
  });
});

describe('protected identity (skyddade personuppgifter)', () => {
  const leaky: SipPlan = leakyProtectedPlan();
  const text = JSON.stringify(planToBundle(leaky));

  it('writes no address, phone, e-mail or free-text place of the person anywhere, narrative included', () => {
    for (const secret of ['Hemliga gatan', '413 01', '070-111 22 33', 'linnea.hemlig@example.se', 'Hemma hos']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain(PROTECTED_LOCATION_TEXT);
  });

  it('writes no Patient.address or Patient.telecom and marks the Patient in meta.security', () => {
    const patient = planToBundle(leaky).entry?.find((entry) => entry.resource?.resourceType === 'Patient')?.resource;
    expect(patient).toBeDefined();
    expect(patient).not.toHaveProperty('address');
    expect(patient).not.toHaveProperty('telecom');
    expect(patient?.meta?.security?.map((coding) => coding.code)).toEqual(['skyddadFolkbokforing', 'DEMO']);
  });

  it('still lets the relative be reached by phone, which tells no place', () => {
    expect(text).toContain('070-444 55 66');
  });

  it('for a person without protected identity, the same details do travel (the test above can fail)', () => {
    const open = JSON.stringify(planToBundle({ ...leaky, individual: { ...leaky.individual, protectedIdentity: 'none' } }));
    expect(open).toContain('Hemliga gatan 7');
    expect(open).toContain('070-111 22 33');
    expect(open).toContain('Hemma hos Linnea');
  });
});
