/**
 * A plan made at discharge from inpatient care (seed 001 §3.3.2) in FHIR: the `discharge` extension
 * on the CarePlan, its way back, the Swedish narrative, and the warning invariant sip-cpl-7 for a
 * discharge into öppen tvångsvård under LPT or LRV (§3.6.1). The expected extensions are written by
 * hand from src/fhir/canonical.ts and src/fhir/code-systems.ts.
 */
import type { Bundle, CarePlan, Extension } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import type { Discharge, SipPlan } from '../../src/sip/index.js';
import { shippedStructureDefinitions } from '../support/build-profiles.js';
import { createValidator } from '../../src/validation/index.js';
import { readExample } from '../support/examples.js';
import { evaluateWithFhirpath, evaluateWithMedplum } from '../support/fhirpath-engines.js';

const DISCHARGE_URL = 'http://sip-fhir-adapter.se/fhir/StructureDefinition/discharge';
const INPATIENT_CARE = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-inpatient-care';
const COMPULSORY_CARE = 'http://sip-fhir-adapter.se/fhir/CodeSystem/sip-compulsory-care';

const ADULT = readExample('adult-psychiatry-addiction.json');
const validator = createValidator();

function carePlanOf(bundle: Bundle): CarePlan {
  const carePlan = bundle.entry?.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource;
  if (carePlan?.resourceType !== 'CarePlan') throw new Error('no CarePlan in the Bundle');
  return carePlan;
}

function dischargeOf(bundle: Bundle): Extension | undefined {
  return carePlanOf(bundle).extension?.find((extension) => extension.url === DISCHARGE_URL);
}

function narrativeOf(bundle: Bundle): string {
  return carePlanOf(bundle).text?.div ?? '';
}

/** What a receiver gets: the Bundle as JSON text, parsed again. */
function overTheWire(bundle: Bundle): unknown {
  return JSON.parse(JSON.stringify(bundle)) as unknown;
}

function dischargedWith(discharge: Discharge): SipPlan {
  return { ...ADULT, discharge };
}

describe('a somatic discharge (the elderly example)', () => {
  const bundle = planToBundle(readExample('elderly-discharge-multimorbidity.json'));

  it('is a discharge extension on the CarePlan with the inpatient care and the day, and no compulsory care', () => {
    expect(dischargeOf(bundle)).toEqual({
      url: DISCHARGE_URL,
      extension: [
        { url: 'from', valueCoding: { system: INPATIENT_CARE, code: 'somaticInpatientCare', display: 'Somatic inpatient care' } },
        { url: 'dischargedAt', valueDate: '2026-01-28' },
      ],
    });
  });

  it('is told in one Swedish sentence of the narrative, without a word of a samordnad vårdplan', () => {
    expect(narrativeOf(bundle)).toContain('<p>Planen görs vid utskrivning från somatisk slutenvård den 28 januari 2026.</p>');
    expect(narrativeOf(bundle)).not.toContain('samordnad vårdplan');
  });

  it('sets off no sip-cpl-7 warning in our validator', () => {
    expect(validator.validate(bundle).issue.filter((issue) => issue.details?.coding?.[0]?.code === 'sip-cpl-7')).toEqual([]);
  });
});

describe.each([
  { law: 'LPT' as const, display: 'Outpatient compulsory psychiatric care under LPT (SFS 1991:1128)', sv: 'öppen psykiatrisk tvångsvård enligt LPT' },
  { law: 'LRV' as const, display: 'Outpatient forensic psychiatric care under LRV (SFS 1991:1129)', sv: 'öppen rättspsykiatrisk vård enligt LRV' },
])('a discharge into compulsory care under $law', ({ law, display, sv }) => {
  const plan = dischargedWith({ from: 'psychiatricInpatientCare', dischargedAt: '2026-03-05', compulsoryCare: law });
  const bundle = planToBundle(plan);

  it('carries the law as a code of sip-compulsory-care in the discharge extension', () => {
    expect(dischargeOf(bundle)).toEqual({
      url: DISCHARGE_URL,
      extension: [
        { url: 'from', valueCoding: { system: INPATIENT_CARE, code: 'psychiatricInpatientCare', display: 'Psychiatric inpatient care' } },
        { url: 'dischargedAt', valueDate: '2026-03-05' },
        { url: 'compulsoryCare', valueCoding: { system: COMPULSORY_CARE, code: law, display } },
      ],
    });
  });

  it('comes back from FHIR as the same discharge, with nothing reported unmapped', () => {
    const result = bundleToPlan(overTheWire(bundle));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.discharge).toEqual({ from: 'psychiatricInpatientCare', dischargedAt: '2026-03-05', compulsoryCare: law });
    expect(result.outcome.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: 'All entries were mapped' }]);
  });

  it('says in the narrative that a samordnad vårdplan is prescribed instead', () => {
    expect(narrativeOf(bundle)).toContain(
      `<p>Planen görs vid utskrivning från psykiatrisk slutenvård den 5 mars 2026. Efter utskrivningen ges ${sv}; då ska planeringen enligt lag i stället göras som en samordnad vårdplan.</p>`,
    );
  });

  it('sets off sip-cpl-7 as a warning, on the CarePlan, and no error', () => {
    const issues = validator.validate(bundle).issue;
    const warnings = issues.filter((issue) => issue.details?.coding?.[0]?.code === 'sip-cpl-7');
    expect(warnings.map((issue) => issue.severity)).toEqual(['warning']);
    expect(warnings[0]?.details?.coding?.[0]?.system).toBe('http://sip-fhir-adapter.se/fhir/StructureDefinition/sip-careplan');
    expect(warnings[0]?.expression?.[0]).toMatch(/^Bundle\.entry\[\d+\]\.resource$/);
    expect(issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')).toEqual([]);
  });
});

describe('reading a discharge another system wrote', () => {
  const base = (): Bundle => structuredClone(planToBundle(dischargedWith({ from: 'psychiatricInpatientCare', compulsoryCare: 'LPT' })));

  function withDischargeParts(parts: Extension[]): Bundle {
    const bundle = base();
    const discharge = dischargeOf(bundle);
    if (discharge === undefined) throw new Error('no discharge extension');
    discharge.extension = parts;
    return bundle;
  }

  it('refuses compulsory care coded outside sip-compulsory-care rather than dropping it', () => {
    const bundle = withDischargeParts([
      { url: 'from', valueCoding: { system: INPATIENT_CARE, code: 'psychiatricInpatientCare' } },
      { url: 'compulsoryCare', valueCoding: { system: 'http://example.org/laws', code: 'LPT' } },
    ]);
    const result = bundleToPlan(overTheWire(bundle));
    expect(result.ok).toBe(false);
    expect(result.outcome.issue).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: [expect.stringMatching(/extension\('compulsoryCare'\)$/) as unknown] }),
    );
  });

  it('refuses compulsory care after a somatic discharge, as the SIP model does', () => {
    const bundle = withDischargeParts([
      { url: 'from', valueCoding: { system: INPATIENT_CARE, code: 'somaticInpatientCare' } },
      { url: 'compulsoryCare', valueCoding: { system: COMPULSORY_CARE, code: 'LRV' } },
    ]);
    const result = bundleToPlan(overTheWire(bundle));
    expect(result.ok).toBe(false);
    expect(result.outcome.issue.map((issue) => issue.diagnostics)).toContainEqual(expect.stringContaining('/discharge/compulsoryCare'));
  });

  it('refuses a discharge that does not say which inpatient care the person leaves', () => {
    const result = bundleToPlan(overTheWire(withDischargeParts([{ url: 'dischargedAt', valueDate: '2026-03-05' }])));
    expect(result.ok).toBe(false);
    expect(result.outcome.issue).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'required', expression: [expect.stringMatching(/extension\('from'\)$/) as unknown] }),
    );
  });
});

describe('sip-cpl-7 in both FHIRPath engines', () => {
  const expression = `extension('${DISCHARGE_URL}').extension('compulsoryCare').value.ofType(Coding).where(system = '${COMPULSORY_CARE}').empty()`;

  it('is the expression and severity the SIP CarePlan profile declares', () => {
    expect(shippedStructureDefinitions().flatMap((definition) => definition.differential?.element.flatMap((element) => element.constraint ?? []) ?? []).find((invariant) => invariant.key === 'sip-cpl-7')).toEqual(expect.objectContaining({ severity: 'warning', expression }));
  });

  it('holds, in both, when the compulsory care is coded in another system or is absent, and fails when it is ours', () => {
    const verdicts = (bundle: Bundle) => [evaluateWithFhirpath(expression, carePlanOf(bundle)), evaluateWithMedplum(expression, carePlanOf(bundle))];
    const foreign = structuredClone(planToBundle(dischargedWith({ from: 'psychiatricInpatientCare', compulsoryCare: 'LRV' })));
    const part = dischargeOf(foreign)?.extension?.find((candidate) => candidate.url === 'compulsoryCare');
    if (part === undefined) throw new Error('no compulsoryCare part');
    part.valueCoding = { system: 'http://example.org/laws', code: 'LRV' };
    expect(verdicts(foreign)).toEqual([[true], [true]]);
    expect(verdicts(planToBundle(dischargedWith({ from: 'psychiatricInpatientCare' })))).toEqual([[true], [true]]);
    expect(verdicts(planToBundle(dischargedWith({ from: 'psychiatricInpatientCare', compulsoryCare: 'LRV' })))).toEqual([[false], [false]]);
  });
});
