/**
 * `_summary` and `_elements` on official R4 examples (https://hl7.org/fhir/R4/search.html#summary,
 * #elements). The expected members were read off the R4 resource pages' Σ column and cardinalities
 * (patient.html, observation.html, careplan.html), not produced by the code under test.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Request } from 'express';
import type { CarePlan, FhirResource, Observation, Patient } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { checkElementNames, requestedSubset, SUBSETTED, subsetResource, subsetText, type Subset } from '../../src/http/fhir-subset.js';
import { HttpError } from '../../src/http/problem.js';

const EXAMPLES = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
function example(file: string): unknown {
  return JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown;
}
const patient = example('Patient-example.json') as Patient;
const bloodPressure = example('Observation-blood-pressure.json') as Observation;
const carePlan = example('CarePlan-example.json') as CarePlan;

const summary = (mode: 'true' | 'text' | 'data'): Subset => ({ kind: 'summary', mode });
const elements = (...names: string[]): Subset => ({ kind: 'elements', names });
const keys = (resource: FhirResource): string[] => Object.keys(resource).sort();
const asRequest = (query: Record<string, string | string[]>): Request => ({ query }) as unknown as Request;
function refusal(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    if (error instanceof HttpError && error.status === 400) return error.detail;
    throw error;
  }
  throw new Error('expected a 400');
}

describe('_summary', () => {
  it('true keeps the Σ elements of Patient and drops text and contact', () => {
    const subset = subsetResource(patient, summary('true'));
    // Patient's Σ elements present in the example: identifier, active, name, telecom, gender,
    // birthDate (with its extension _birthDate), deceased[x], address, managingOrganization.
    expect(keys(subset)).toEqual(
      ['resourceType', 'id', 'meta', 'identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', '_birthDate', 'deceasedBoolean', 'address', 'managingOrganization'].sort(),
    );
    expect(subset.meta?.tag).toEqual([SUBSETTED]);
    expect((subset as Patient).name).toEqual(patient.name);
  });

  it('true keeps only the Σ children of a Σ backbone element (Observation.component: code, value[x]; not interpretation)', () => {
    const subset = subsetResource(bloodPressure, summary('true')) as Observation;
    expect(subset.component?.map((component) => Object.keys(component).sort())).toEqual([
      ['code', 'valueQuantity'],
      ['code', 'valueQuantity'],
    ]);
    // Observation.interpretation at the top is not Σ either; code, status, subject are.
    expect(keys(subset)).not.toContain('interpretation');
    expect(keys(subset)).toEqual(expect.arrayContaining(['code', 'status', 'subject', 'effectiveDateTime', 'performer']));
  });

  it('true drops CarePlan.activity, goal and careTeam, which are not Σ', () => {
    const subset = subsetResource(carePlan, summary('true')) as CarePlan;
    expect(subset.activity).toBeUndefined();
    expect(subset.goal).toBeUndefined();
    expect(subset.status).toBe(carePlan.status);
    expect(subset.subject).toEqual(carePlan.subject);
  });

  it('text keeps text, id, meta and the top-level mandatory elements', () => {
    expect(keys(subsetResource(patient, summary('text')))).toEqual(['id', 'meta', 'resourceType', 'text']);
    // CarePlan.status, intent and subject are 1..1.
    expect(keys(subsetResource(carePlan, summary('text')))).toEqual(['id', 'intent', 'meta', 'resourceType', 'status', 'subject', 'text']);
  });

  it('data drops text alone', () => {
    const subset = subsetResource(patient, summary('data'));
    expect(keys(subset)).toEqual(keys(patient).filter((key) => key !== 'text').concat('meta').sort());
  });

  it('keeps the tags a resource had and never adds SUBSETTED twice', () => {
    const tag = { system: 'http://example.org/tags', code: 'kept' };
    const once = subsetResource({ ...patient, meta: { tag: [tag] } }, summary('data'));
    expect(once.meta?.tag).toEqual([tag, SUBSETTED]);
    expect(subsetResource(once, summary('data')).meta?.tag).toEqual([tag, SUBSETTED]);
  });

  it('leaves a text alone when nothing is asked', () => {
    const text = JSON.stringify(patient);
    expect(subsetText(text, undefined)).toBe(text);
    expect(JSON.parse(subsetText(text, summary('data')))).not.toHaveProperty('text');
  });
});

describe('_elements', () => {
  it('keeps the elements named with id and meta, and a resource type\'s mandatory elements', () => {
    expect(keys(subsetResource(patient, elements('name', 'gender')))).toEqual(['gender', 'id', 'meta', 'name', 'resourceType']);
    expect(keys(subsetResource(carePlan, elements('title')))).toEqual(['id', 'intent', 'meta', 'resourceType', 'status', 'subject']);
    expect(keys(subsetResource(carePlan, elements('goal')))).toEqual(['goal', 'id', 'intent', 'meta', 'resourceType', 'status', 'subject']);
  });

  it('names a choice element without its type: deceased and deceased[x] keep deceasedBoolean', () => {
    expect(keys(subsetResource(patient, elements('deceased')))).toContain('deceasedBoolean');
    expect(keys(subsetResource(patient, elements('deceased[x]')))).toContain('deceasedBoolean');
    expect(() => {
      checkElementNames(elements('deceased', 'deceased[x]', 'deceasedBoolean', 'name'), 'Patient');
    }).not.toThrow();
  });

  it('refuses a name that is no top-level element of the type', () => {
    expect(
      refusal(() => {
        checkElementNames(elements('name', 'colour'), 'Patient');
      }),
    ).toContain('Patient has no element colour');
    expect(
      refusal(() => {
        checkElementNames(elements('name.family'), 'Patient');
      }),
    ).toContain('name.family');
  });
});

describe('the parameters', () => {
  it('reads _summary and _elements, each mode R4 defines', () => {
    expect(requestedSubset(asRequest({ _summary: 'true' }), { search: false })).toEqual(summary('true'));
    expect(requestedSubset(asRequest({ _summary: 'false' }), { search: false })).toBeUndefined();
    expect(requestedSubset(asRequest({ _summary: 'count' }), { search: true })).toBeUndefined();
    expect(requestedSubset(asRequest({ _elements: ['name,gender', 'birthDate'] }), { search: false })).toEqual(elements('name', 'gender', 'birthDate'));
    expect(requestedSubset(asRequest({}), { search: true })).toBeUndefined();
  });

  it('refuses what R4 does not define, count on a read, both parameters, repeats and empty names', () => {
    expect(refusal(() => requestedSubset(asRequest({ _summary: 'maybe' }), { search: true }))).toContain('_summary=maybe');
    expect(refusal(() => requestedSubset(asRequest({ _summary: 'count' }), { search: false }))).toContain('_summary=count');
    expect(refusal(() => requestedSubset(asRequest({ _summary: 'true', _elements: 'name' }), { search: true }))).toContain('not both');
    expect(refusal(() => requestedSubset(asRequest({ _summary: ['true', 'data'] }), { search: true }))).toContain('once');
    expect(refusal(() => requestedSubset(asRequest({ _elements: 'name,,gender' }), { search: true }))).toContain('none empty');
  });
});
