/**
 * Proves the independent base-R4 validators in test/support/fhir-validators.ts can both pass and fail:
 * official HL7 examples pass both, and hand-broken resources fail where (and only where) each validator
 * really looks. Cases where a validator is blind are asserted as such, so a future upgrade that changes
 * behaviour shows up here rather than silently in other tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Bundle, CarePlan, Consent, Resource } from 'fhir/r4.js';
import {
  errorsOnly,
  formatIssues,
  listOfficialExamples,
  loadJsonSchema,
  loadMedplum,
  readOfficialExample,
  validateWithJsonSchema,
  validateWithMedplum,
  type ValidatorIssue,
} from '../support/fhir-validators.js';

const PREFIXES = ['CarePlan-', 'Consent-consent-example-', 'Appointment-'];
const EXACT = [
  'CareTeam-example.json',
  'Bundle-bundle-transaction.json',
  'Patient-example.json',
  'Task-example1.json',
  'Provenance-example.json',
  'Goal-example.json',
  'HealthcareService-example.json',
  'PractitionerRole-example.json',
  'RelatedPerson-peter.json',
  'QuestionnaireResponse-3141.json',
  'DetectedIssue-ddi.json',
];
// Only names that exist in hl7.fhir.r4.examples; a missing one is skipped, not guessed.
const examples = listOfficialExamples().filter((f) => PREFIXES.some((p) => f.startsWith(p)) || EXACT.includes(f));

beforeAll(() => {
  let start = performance.now();
  loadMedplum();
  const medplumMs = Math.round(performance.now() - start);
  start = performance.now();
  loadJsonSchema();
  const jsonSchemaMs = Math.round(performance.now() - start);
  console.info(`validator load: medplum ${medplumMs} ms, json-schema ${jsonSchemaMs} ms`);
}, 60_000);

const both = (resource: Resource): ValidatorIssue[] => [...validateWithMedplum(resource), ...validateWithJsonSchema(resource)];

const at = (issues: ValidatorIssue[], validator: ValidatorIssue['validator'], location: string): ValidatorIssue[] =>
  issues.filter((i) => i.validator === validator && i.location === location);

const carePlan = (): CarePlan => readOfficialExample('CarePlan-example.json') as CarePlan;
const carePlanWith = (patch: Partial<CarePlan>): CarePlan => ({ ...carePlan(), ...patch });

describe('official R4 examples pass both validators', () => {
  it('finds the examples it was asked for', () => {
    expect(examples.filter((f) => f.startsWith('CarePlan-')).length).toBeGreaterThan(5);
    expect(examples.filter((f) => f.startsWith('Consent-')).length).toBeGreaterThan(5);
    expect(examples.filter((f) => EXACT.includes(f))).toEqual([...EXACT].sort());
  });

  it.each(examples)('%s', (fileName) => {
    const issues = both(readOfficialExample(fileName));
    expect(errorsOnly(issues), formatIssues(issues)).toEqual([]);
  });
});

describe('broken resources fail', () => {
  it('an unknown property fails both, located at the property', () => {
    const issues = both({ ...carePlan(), foo: 'bar' } as CarePlan);
    expect(at(issues, 'medplum', 'CarePlan.foo'), formatIssues(issues)).toHaveLength(1);
    const schema = at(issues, 'json-schema', '/');
    expect(schema, formatIssues(issues)).toHaveLength(1);
    expect(schema[0]?.message).toContain("'foo'");
  });

  it('a Consent without scope fails both', () => {
    const consent = readOfficialExample('Consent-consent-example-basic.json') as Consent;
    const withoutScope: Partial<Consent> = { ...consent };
    delete withoutScope.scope;
    const issues = both(withoutScope as Consent);
    expect(at(issues, 'medplum', 'Consent.scope'), formatIssues(issues)).toHaveLength(1);
    expect(at(issues, 'medplum', 'Consent.scope')[0]?.message).toBe('Missing required property');
    const schema = at(issues, 'json-schema', '/');
    expect(schema, formatIssues(issues)).toHaveLength(1);
    expect(schema[0]?.message).toContain("required property 'scope'");
  });

  it('an invalid dateTime fails both, located at the element', () => {
    const issues = both(carePlanWith({ period: { start: '2020-13-45' } }));
    expect(at(issues, 'medplum', 'CarePlan.period.start'), formatIssues(issues)).toHaveLength(1);
    expect(at(issues, 'json-schema', '/period/start'), formatIssues(issues)).toHaveLength(1);
  });

  it('null as a value fails both', () => {
    const issues = both({ ...carePlan(), description: null } as unknown as CarePlan);
    expect(at(issues, 'medplum', 'CarePlan.description'), formatIssues(issues)).toHaveLength(1);
    expect(at(issues, 'json-schema', '/description'), formatIssues(issues)).toHaveLength(1);
  });

  it('an unknown resourceType fails both', () => {
    const issues = both({ resourceType: 'NotAResource' });
    expect(errorsOnly(issues).map((i) => i.validator).sort(), formatIssues(issues)).toEqual(['json-schema', 'medplum']);
  });

  it('a Reference given as a string: medplum fails it, the JSON schema does not', () => {
    const issues = both({ ...carePlan(), subject: 'Patient/example' } as unknown as CarePlan);
    // Medplum walks the string as an object and reports each character index as an unknown property
    // (CarePlan.subject.0, CarePlan.subject.1, ...).
    const medplum = errorsOnly(issues).filter((i) => i.validator === 'medplum');
    expect(medplum.length, formatIssues(issues)).toBeGreaterThan(0);
    expect(medplum.every((i) => i.location.startsWith('CarePlan.subject'))).toBe(true);
    // The official JSON schema's complex-type definitions have no `"type": "object"`, so any string passes.
    expect(validateWithJsonSchema({ ...carePlan(), subject: 'Patient/example' } as unknown as CarePlan)).toEqual([]);
  });

  it('an empty string fails the JSON schema only', () => {
    const issues = both(carePlanWith({ description: '' }));
    expect(at(issues, 'json-schema', '/description'), formatIssues(issues)).toHaveLength(1);
    // Medplum does not reject empty primitive strings.
    expect(issues.filter((i) => i.validator === 'medplum')).toEqual([]);
  });

  it('an extension without a value fails medplum (ext-1)', () => {
    const issues = both(carePlanWith({ extension: [{ url: 'http://example.org/fhir/StructureDefinition/x' }] }));
    expect(at(issues, 'medplum', 'CarePlan.extension[0]'), formatIssues(issues)).toHaveLength(1);
    // The JSON schema does not evaluate invariants.
    expect(issues.filter((i) => i.validator === 'json-schema')).toEqual([]);
  });
});

describe('known blind spots (asserted so an upgrade that changes them is noticed)', () => {
  it('neither validator checks a required code binding: CarePlan.status "bogus-not-a-code" passes', () => {
    // Medplum does no terminology validation; this JSON schema types status as `code` (a pattern) with no enum.
    const issues = both({ ...carePlan(), status: 'bogus-not-a-code' } as unknown as CarePlan);
    expect(issues, formatIssues(issues)).toEqual([]);
  });

  it('a participant.actor referencing an Organization is only a medplum warning', () => {
    // R4 allows Patient|Practitioner|PractitionerRole|RelatedPerson|Device|HealthcareService|Location here.
    // Medplum notices but reports severity "warning" (validateResource does not throw); the JSON schema
    // cannot see reference targets at all.
    const appointment = readOfficialExample('Appointment-example.json') as Appointment;
    const participant = appointment.participant.map((p, i) => (i === 0 ? { ...p, actor: { reference: 'Organization/1' } } : p));
    const broken: Appointment = { ...appointment, participant };
    const issues = both(broken);
    expect(errorsOnly(issues), formatIssues(issues)).toEqual([]);
    const warnings = at(issues, 'medplum', 'Appointment.participant[0].actor');
    expect(warnings, formatIssues(issues)).toHaveLength(1);
    expect(warnings[0]?.severity).toBe('warning');
    expect(warnings[0]?.message).toContain('Organization');
  });

  it('medplum warns on urn:uuid references inside a Bundle (it does not resolve fullUrl)', () => {
    const patientUrl = 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a';
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: patientUrl, resource: { resourceType: 'Patient', active: true }, request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: 'urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059',
          resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: patientUrl } },
          request: { method: 'POST', url: 'CarePlan' },
        },
      ],
    };
    const issues = both(bundle);
    expect(errorsOnly(issues), formatIssues(issues)).toEqual([]);
    const warnings = at(issues, 'medplum', 'Bundle.entry[1].resource.subject');
    expect(warnings, formatIssues(issues)).toHaveLength(1);
    expect(warnings[0]?.severity).toBe('warning');
  });

  it('an empty array passes both (the "no empty arrays" rule is not enforced)', () => {
    const issues = both(carePlanWith({ goal: [] }));
    expect(issues, formatIssues(issues)).toEqual([]);
  });

  it('inside a Bundle, the JSON schema catches a nested unknown property but reports oneOf noise', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/1' }, foo: 1 } }],
    } as unknown as Resource;
    const medplum = validateWithMedplum(bundle);
    expect(at(medplum, 'medplum', 'Bundle.entry[0].resource.foo'), formatIssues(medplum)).toHaveLength(1);
    // Bundle.entry.resource is a oneOf over every resource type, so ajv reports the failure against all ~150
    // of them (hundreds of issues); the real one is among them.
    const schema = validateWithJsonSchema(bundle);
    expect(schema.length).toBeGreaterThan(100);
    expect(at(schema, 'json-schema', '/entry/0/resource').some((i) => i.message.includes("'foo'"))).toBe(true);
  });
});
