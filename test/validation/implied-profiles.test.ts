/**
 * Profiles implied by codes (src/validation/implied-profiles.ts): an R4 Observation with the
 * vital-signs category, or a LOINC code of https://hl7.org/fhir/R4/observation-vitalsigns.html,
 * SHALL conform to the vital-signs profile and to its code's profile, whether it claims them or not.
 * The profiles are the StructureDefinitions of hl7.fhir.r4.examples.
 */
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/index.js';
import { readOfficialExample } from '../support/fhir-validators.js';

const validator = createValidator();
const SD = 'http://hl7.org/fhir/StructureDefinition/';

type JsonObject = Record<string, unknown>;

/** An official example without its meta.profile: whatever applies now is implied. */
function unclaimed(file: string): JsonObject {
  const resource = structuredClone(readOfficialExample(file)) as unknown as JsonObject;
  delete resource.meta;
  return resource;
}

function errors(outcome: OperationOutcome): string[] {
  return outcome.issue
    .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
    .map((issue) => `${issue.details?.coding?.[0]?.code ?? ''} (${(issue.details?.coding?.[0]?.system ?? '').replace(SD, '')}) at ${issue.expression?.[0] ?? ''}`);
}

/** The official examples of vital signs: category vital-signs, or a code of the table (read from the files). */
const VITAL_SIGN_EXAMPLES = [
  'Observation-blood-pressure-cancel.json', 'Observation-blood-pressure-dar.json', 'Observation-blood-pressure.json', 'Observation-bmi-using-related.json',
  'Observation-bmi.json', 'Observation-body-height.json', 'Observation-body-length.json', 'Observation-body-temperature.json', 'Observation-example.json',
  'Observation-head-circumference.json', 'Observation-heart-rate.json', 'Observation-mbp.json', 'Observation-respiratory-rate.json', 'Observation-satO2.json',
  'Observation-vitals-panel.json',
];

describe('the R4 vital-signs profiles, implied by codes', () => {
  it.each(VITAL_SIGN_EXAMPLES)('%s passes them, claimed or not', (file) => {
    expect(errors(validator.validate(readOfficialExample(file))), file).toEqual([]);
    expect(errors(validator.validate(unclaimed(file))), file).toEqual([]);
  });

  it('fails Observation-f202, a body temperature in the vital-signs category with no effective[x], as the vital-signs profile requires one', () => {
    expect(errors(validator.validate(readOfficialExample('Observation-f202.json')))).toEqual(['min-cardinality (vitalsigns) at Observation.effective']);
  });

  it('holds an Observation with a LOINC vital-sign code to the vital-signs profile though it has no category: body weight', () => {
    const weight = unclaimed('Observation-example.json');
    expect(JSON.stringify(weight.code)).toContain('"29463-7"');
    expect(errors(validator.validate(weight))).toEqual([]);
    delete weight.category;
    expect(errors(validator.validate(weight))).toEqual(['min-cardinality (vitalsigns) at Observation.category']);
  });

  it("holds a blood pressure to its code's profile (bp): without the systolic component it fails", () => {
    const pressure = unclaimed('Observation-blood-pressure.json');
    const components = pressure.component as JsonObject[];
    expect(JSON.stringify(components[0]?.code)).toContain('"8480-6"');
    pressure.component = components.slice(1);
    expect(errors(validator.validate(pressure))).toContain('slice-cardinality (bp) at Observation.component');
  });

  it('leaves other Observations alone: a glucose measurement meets no vital-signs rule', () => {
    const glucose = unclaimed('Observation-f001.json');
    const outcome = validator.validate(glucose);
    expect(outcome.issue.filter((issue) => /vitalsigns|heartrate|bodyweight/.test(issue.details?.coding?.[0]?.system ?? ''))).toEqual([]);
  });
});
