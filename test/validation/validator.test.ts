/**
 * The validator's own checks, each with a passing and a failing case: how a finding is reported
 * (rule key, source StructureDefinition, FHIRPath with indexes), JSON representation rules,
 * primitives, bindings, constraints, profiles and Bundles.
 */
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator, hasErrors, REPLACED_CONSTRAINTS, STRUCTURE_RULES } from '../../src/validation/index.js';
import { toJavaScriptRegex } from '../../src/validation/type-model.js';

const validator = createValidator();
const NARRATIVE = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };

/** `[rule, expression, severity]` of every issue but the "All OK" one. */
function findings(outcome: OperationOutcome): [string, string, string][] {
  return outcome.issue.filter((issue) => issue.code !== 'informational').map((issue) => [issue.details?.coding?.[0]?.code ?? '', issue.expression?.[0] ?? '', issue.severity]);
}

function patient(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'Patient', text: NARRATIVE, ...extra };
}

describe('the outcome', () => {
  it('is "All OK" for a valid resource', () => {
    const outcome = validator.validate(patient({ gender: 'female', birthDate: '2020-02-29' }));
    expect(hasErrors(outcome)).toBe(false);
    expect(outcome.issue).toEqual([{ severity: 'information', code: 'informational', details: { text: 'All OK' } }]);
  });

  it('names rule, source, location and a message for each issue', () => {
    const outcome = validator.validate({ resourceType: 'CarePlan', text: NARRATIVE, status: 'bogus', intent: 'plan', subject: { reference: 'Patient/1' } });
    expect(outcome.issue).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        details: {
          coding: [{ system: 'http://hl7.org/fhir/StructureDefinition/CarePlan', code: STRUCTURE_RULES.requiredBinding }],
          text: expect.stringContaining('bogus') as unknown,
        },
        expression: ['CarePlan.status'],
      },
    ]);
  });

  it('never throws for JSON that is not a resource', () => {
    for (const input of [null, 5, 'Patient', [], {}, { resourceType: 7 }, { resourceType: 'NoSuchType' }]) {
      expect(findings(validator.validate(input))).toEqual([[STRUCTURE_RULES.notAResource, expect.any(String), 'error']]);
    }
  });
});

describe('JSON representation (https://hl7.org/fhir/R4/json.html)', () => {
  it('rejects unknown elements, at any depth', () => {
    expect(findings(validator.validate(patient({ colour: 'blue', name: [{ family: 'A', nickname: 'B' }] })))).toEqual([
      [STRUCTURE_RULES.unknownElement, 'Patient.colour', 'error'],
      [STRUCTURE_RULES.unknownElement, 'Patient.name[0].nickname', 'error'],
    ]);
  });

  it('wants arrays for repeating elements and single values for the others', () => {
    expect(findings(validator.validate(patient({ name: { family: 'A' } })))).toEqual([[STRUCTURE_RULES.invalidType, 'Patient.name', 'error']]);
    expect(findings(validator.validate(patient({ gender: ['female'] })))).toEqual([[STRUCTURE_RULES.maxCardinality, 'Patient.gender', 'error']]);
  });

  it('rejects empty objects, empty arrays and nulls (ele-1)', () => {
    expect(findings(validator.validate(patient({ contact: [{}] })))).toEqual([['ele-1', 'Patient.contact[0]', 'error']]);
    expect(findings(validator.validate(patient({ name: [] })))).toEqual([['ele-1', 'Patient.name', 'error']]);
    expect(findings(validator.validate(patient({ gender: null })))).toEqual([['ele-1', 'Patient.gender', 'error']]);
  });

  it('reads choice elements by their type suffix and allows one type only', () => {
    expect(findings(validator.validate(patient({ deceasedBoolean: true })))).toEqual([]);
    expect(findings(validator.validate(patient({ deceasedString: 'yes' })))).toEqual([[STRUCTURE_RULES.unknownElement, 'Patient.deceasedString', 'error']]);
    expect(findings(validator.validate(patient({ deceasedBoolean: true, deceasedDateTime: '2020-01-01' })))).toEqual([[STRUCTURE_RULES.maxCardinality, 'Patient.deceasedDateTime', 'error']]);
  });

  it('checks a primitive\'s id and extensions under "_name", and reports them at the element', () => {
    const extension = { url: 'http://example.org/x', valueString: 'a' };
    expect(findings(validator.validate(patient({ _birthDate: { extension: [extension] } })))).toEqual([]);
    expect(findings(validator.validate(patient({ _birthDate: { extension: [{ url: 'http://example.org/x' }] } })))).toEqual([['ext-1', 'Patient.birthDate.extension[0]', 'error']]);
    expect(findings(validator.validate(patient({ _gender: 'female' })))).toEqual([[STRUCTURE_RULES.invalidType, 'Patient.gender', 'error']]);
  });

  it('checks required elements of nested types', () => {
    expect(findings(validator.validate(patient({ link: [{ type: 'seealso' }] })))).toEqual([[STRUCTURE_RULES.minCardinality, 'Patient.link[0].other', 'error']]);
  });
});

describe('primitives', () => {
  it.each([
    ['birthDate', '2020-02-30', STRUCTURE_RULES.invalidValue],
    ['birthDate', '2020-13-01', STRUCTURE_RULES.invalidValue],
    ['birthDate', '20200101', STRUCTURE_RULES.invalidValue],
    ['birthDate', 20200101, STRUCTURE_RULES.invalidType],
    ['active', 'true', STRUCTURE_RULES.invalidType],
    ['multipleBirthInteger', 1.5, STRUCTURE_RULES.invalidValue],
    ['gender', '', STRUCTURE_RULES.invalidValue],
  ])('%s = %j is rejected', (element, value, rule) => {
    expect(findings(validator.validate(patient({ [element]: value })))).toEqual([[rule, `Patient.${element.replace(/Integer$/, 'Integer')}`, 'error']]);
  });

  it.each([
    ['birthDate', '2020'],
    ['birthDate', '2020-02'],
    ['birthDate', '2024-02-29'],
    ['active', false],
    ['multipleBirthInteger', 2],
  ])('%s = %j is accepted', (element, value) => {
    expect(findings(validator.validate(patient({ [element]: value })))).toEqual([]);
  });

  it('reads the spec\'s regexes with XML Schema\'s \\s, so a no-break space is text', () => {
    const string = toJavaScriptRegex('[ \\r\\n\\t\\S]+');
    expect(string.test('Program\u00a0')).toBe(true);
    expect(string.test('')).toBe(false);
    const code = toJavaScriptRegex('[^\\s]+(\\s[^\\s]+)*');
    expect(code.test('a b')).toBe(true);
    expect(code.test('a  b')).toBe(false);
    expect(code.test(' a')).toBe(false);
  });
});

describe('bindings', () => {
  it('a code outside a required binding is an error, inside a datatype too', () => {
    expect(findings(validator.validate(patient({ telecom: [{ system: 'pager', value: '1' }, { system: 'carrier-pigeon', value: '2' }] })))).toEqual([
      [STRUCTURE_RULES.requiredBinding, 'Patient.telecom[1].system', 'error'],
    ]);
  });

  it('a CodeableConcept must have a coding of the bound system: another system fails a required binding', () => {
    const allergy = (system: string) => ({ resourceType: 'AllergyIntolerance', text: NARRATIVE, patient: { reference: 'Patient/1' }, clinicalStatus: { coding: [{ system, code: 'active' }] } });
    expect(findings(validator.validate(allergy('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical')))).toEqual([]);
    expect(findings(validator.validate(allergy('http://example.org/clinical')))).toEqual([[STRUCTURE_RULES.requiredBinding, 'AllergyIntolerance.clinicalStatus', 'error']]);
  });

  it('a code outside an extensible binding is a warning only', () => {
    const outcome = validator.validate(patient({ maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'ZZ' }] } }));
    expect(findings(outcome)).toEqual([[STRUCTURE_RULES.extensibleBinding, 'Patient.maritalStatus', 'warning']]);
    expect(hasErrors(outcome)).toBe(false);
  });

  it('leaves codes of value sets it cannot expand (MIME types) unjudged', () => {
    expect(findings(validator.validate(patient({ photo: [{ contentType: 'no/such-type', url: 'http://example.org/p.png' }] })))).toEqual([]);
  });
});

describe('constraints', () => {
  it('evaluates base invariants where the element occurs (per-1 inside a datatype)', () => {
    expect(findings(validator.validate(patient({ name: [{ family: 'A', period: { start: '2021-01-01', end: '2020-01-01' } }] })))).toEqual([['per-1', 'Patient.name[0].period', 'error']]);
    expect(findings(validator.validate(patient({ name: [{ family: 'A', period: { start: '2020-01-01', end: '2021-01-01' } }] })))).toEqual([]);
  });

  it('reports a warning invariant as a warning (dom-6: no narrative)', () => {
    expect(findings(validator.validate({ resourceType: 'Patient' }))).toEqual([['dom-6', 'Patient', 'warning']]);
  });

  it('resolves references inside a Bundle for resolve() (ctm-1)', () => {
    const careTeam = { resourceType: 'CareTeam', text: NARRATIVE, participant: [{ member: { reference: 'urn:uuid:0f7e6a9e-0000-4000-8000-000000000001' }, onBehalfOf: { reference: 'urn:uuid:0f7e6a9e-0000-4000-8000-000000000002' } }] };
    const bundle = (memberType: string) => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:0f7e6a9e-0000-4000-8000-000000000001', resource: { resourceType: memberType, text: NARRATIVE } },
        { fullUrl: 'urn:uuid:0f7e6a9e-0000-4000-8000-000000000002', resource: { resourceType: 'Organization', text: NARRATIVE, name: 'X' } },
        { fullUrl: 'urn:uuid:0f7e6a9e-0000-4000-8000-000000000003', resource: careTeam },
      ],
    });
    expect(findings(validator.validate(bundle('Practitioner')))).toEqual([]);
    expect(findings(validator.validate(bundle('Patient')))).toEqual([['ctm-1', 'Bundle.entry[2].resource.participant[0]', 'error']]);
  });

  it('checks dom-3 itself: a contained resource must be referenced', () => {
    const contained = [{ resourceType: 'Organization', id: 'o1', name: 'X', text: NARRATIVE }];
    expect(findings(validator.validate(patient({ contained, managingOrganization: { reference: '#o1' } })))).toEqual([]);
    expect(findings(validator.validate(patient({ contained })))).toEqual([['dom-3', 'Patient.contained[0]', 'error']]);
    expect(Object.keys(REPLACED_CONSTRAINTS)).toEqual(['ele-1', 'dom-3']);
  });
});

describe('Bundles', () => {
  const entry = (id: string, resource: Record<string, unknown>) => ({ fullUrl: `urn:uuid:${id}`, resource, request: { method: 'POST', url: String(resource.resourceType) } });
  const PATIENT = '4c6f3b8a-1d2e-4f5a-9b7c-000000000001';

  it('validates each entry at its place, references between entries resolve', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry(PATIENT, patient()), entry('4c6f3b8a-1d2e-4f5a-9b7c-000000000002', { resourceType: 'Goal', text: NARRATIVE, lifecycleStatus: 'planned', description: { text: 'x' }, subject: { reference: `urn:uuid:${PATIENT}` } })],
    };
    expect(findings(validator.validate(bundle))).toEqual([]);
    const broken = structuredClone(bundle);
    const goal = broken.entry[1]?.resource;
    if (goal !== undefined) goal.lifecycleStatus = 'bogus';
    expect(findings(validator.validate(broken))).toEqual([[STRUCTURE_RULES.requiredBinding, 'Bundle.entry[1].resource.lifecycleStatus', 'error']]);
  });

  it('a urn:uuid reference to no entry is an error', () => {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [entry('4c6f3b8a-1d2e-4f5a-9b7c-000000000002', { resourceType: 'Goal', text: NARRATIVE, lifecycleStatus: 'planned', description: { text: 'x' }, subject: { reference: `urn:uuid:${PATIENT}` } })] };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.danglingReference, 'Bundle.entry[0].resource.subject', 'error']]);
  });

  it('evaluates the bdl-* rules on the Bundle', () => {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${PATIENT}`, resource: patient() }] };
    expect(findings(validator.validate(bundle))).toEqual([['bdl-3', 'Bundle', 'error']]);
  });
});

describe('profiles', () => {
  it('an unknown profile is a warning, and the base definition still applies', () => {
    const outcome = validator.validate(patient({ meta: { profile: ['http://example.org/StructureDefinition/nope'] }, gender: 'x' }));
    expect(findings(outcome)).toEqual([
      [STRUCTURE_RULES.requiredBinding, 'Patient.gender', 'error'],
      [STRUCTURE_RULES.unknownProfile, 'Patient.meta.profile', 'warning'],
    ]);
    expect(validator.knowsProfile('http://example.org/StructureDefinition/nope')).toBe(false);
    expect(validator.knowsProfile('http://hl7.org/fhir/StructureDefinition/Patient')).toBe(true);
  });

  it('a profile of another type is an error', () => {
    expect(findings(validator.validate(patient(), { profiles: ['http://hl7.org/fhir/StructureDefinition/CarePlan'] }))).toEqual([[STRUCTURE_RULES.profileMismatch, 'Patient', 'error']]);
  });

  it('walks HL7 profiles with slices from the package (the vital-signs profile)', () => {
    const observation = {
      resourceType: 'Observation',
      text: NARRATIVE,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: 'Patient/1' },
      effectiveDateTime: '2020-01-01',
      valueQuantity: { value: 60, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    const profile = 'http://hl7.org/fhir/StructureDefinition/heartrate';
    expect(findings(validator.validate(observation, { profiles: [profile] })).filter(([, , severity]) => severity === 'error')).toEqual([]);
    const wrongCode = { ...observation, code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] } };
    expect(findings(validator.validate(wrongCode, { profiles: [profile] })).some(([rule]) => rule === STRUCTURE_RULES.sliceCardinality || rule === STRUCTURE_RULES.patternValue)).toBe(true);
  });
});
