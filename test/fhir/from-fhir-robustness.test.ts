/**
 * FHIR → SIP never throws and always answers with an OperationOutcome: on every official HL7 R4
 * Bundle example (none of which is a SIP) and on arbitrary JSON.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleToPlan } from '../../src/fhir/index.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';

const officialBundles = listOfficialExamples().filter((file) => file.startsWith('Bundle-'));

describe('official HL7 Bundle examples', () => {
  it('include enough Bundles to mean something', () => {
    expect(officialBundles.length).toBeGreaterThan(10);
  });

  it.each(officialBundles)('%s is refused with an error issue, not an exception', (file) => {
    const result = bundleToPlan(readOfficialExample(file));
    expect(result.ok).toBe(false);
    expect(result.outcome.issue.some((issue) => issue.severity === 'error' && (issue.expression?.length ?? 0) > 0)).toBe(true);
  });

  it('a CarePlan example in a collection with its Patient is read as far as it goes, with located issues', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'http://hl7.org/fhir/CarePlan/example', resource: readOfficialExample('CarePlan-example.json') }, { fullUrl: 'http://hl7.org/fhir/Patient/example', resource: readOfficialExample('Patient-example.json') }],
    };
    const result = bundleToPlan(bundle);
    expect(result.ok).toBe(false);
    const expressions = result.outcome.issue.flatMap((issue) => issue.expression ?? []);
    expect(expressions.every((expression) => expression.startsWith('Bundle'))).toBe(true);
    expect(expressions.length).toBeGreaterThan(0);
  });
});

describe('arbitrary input', () => {
  it('never throws', () => {
    const resource = fc.record({
      resourceType: fc.constantFrom('CarePlan', 'Patient', 'Organization', 'Consent', 'Appointment', 'Goal', 'PractitionerRole'),
      id: fc.string(),
      subject: fc.oneof(fc.string(), fc.record({ reference: fc.constantFrom('Patient/1', 'urn:uuid:x', '#c', 'Patient?identifier=a|b') })),
      name: fc.oneof(fc.string(), fc.array(fc.anything())),
      category: fc.anything(),
      participant: fc.anything(),
      identifier: fc.anything(),
    });
    const bundle = fc.record({
      resourceType: fc.constant('Bundle'),
      type: fc.constantFrom('transaction', 'collection', 'searchset', 'history'),
      entry: fc.array(fc.record({ fullUrl: fc.option(fc.constantFrom('Patient/1', 'urn:uuid:x', 'http://a/fhir/CarePlan/2')), resource: resource }), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.oneof(bundle, fc.anything()), (input) => {
        const result = bundleToPlan(input);
        expect(result.outcome.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 400 },
    );
  });
});
