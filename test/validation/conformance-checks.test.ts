/**
 * The checks of src/validation/conformance-checks.ts, each with an official R4 example broken one
 * way (it fails, with the rule key, at the place) and the same example intact or repaired (it
 * passes, no issue of that rule). The rules come from the specification, cited in each module.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/index.js';
import { readOfficialExample } from '../support/fhir-validators.js';

const validator = createValidator();

type JsonObject = Record<string, unknown>;

/** A fresh copy of an official example, to break. */
function example(file: string): JsonObject {
  return structuredClone(readOfficialExample(file)) as unknown as JsonObject;
}

/** The issues of one rule, as "severity at expression". */
function issuesOf(outcome: OperationOutcome, rule: string): string[] {
  return outcome.issue.filter((issue) => issue.details?.coding?.[0]?.code === rule).map((issue) => `${issue.severity} at ${issue.expression?.[0] ?? ''}`);
}

/** The JSON at a path of property names and indexes (the parsed-JSON boundary of these tests). */
function at(value: unknown, ...steps: (string | number)[]): JsonObject {
  return steps.reduce<unknown>((current, step) => (current as Record<string | number, unknown>)[step], value) as JsonObject;
}

function firstOf(value: unknown): JsonObject {
  return (value as JsonObject[])[0] ?? {};
}

describe('strings SHALL NOT exceed 1 MB (datatypes.html#string)', () => {
  it('fails a family name of 1,048,577 characters; 1,048,576 pass', () => {
    const patient = example('Patient-example.json');
    const name = firstOf(patient.name);
    name.family = 'x'.repeat(1024 * 1024 + 1);
    const outcome = validator.validate(patient);
    expect(issuesOf(outcome, 'string-too-long')).toEqual(['error at Patient.name[0].family']);
    expect(outcome.issue.find((issue) => issue.details?.coding?.[0]?.code === 'string-too-long')?.details?.text).toBe('a string must not exceed 1 MB (1048576 characters), but has 1048577');
    name.family = 'x'.repeat(1024 * 1024);
    expect(issuesOf(validator.validate(patient), 'string-too-long')).toEqual([]);
  });

  it('counts a code and a markdown too, and the intact example has no such issue', () => {
    const careplan = example('CarePlan-example.json');
    careplan.status = 'a'.repeat(1024 * 1024 + 1);
    expect(issuesOf(validator.validate(careplan), 'string-too-long')).toEqual(['error at CarePlan.status']);
    expect(issuesOf(validator.validate(example('CarePlan-example.json')), 'string-too-long')).toEqual([]);
  });
});

describe("an Attachment's size and hash against its data (datatypes.html#Attachment)", () => {
  const hello = Buffer.from('SGVsbG8=', 'base64'); // the example's data: "Hello", 5 bytes
  const sha1 = createHash('sha1').update(hello).digest('base64');

  function withAttachment(size: unknown, hash: unknown): JsonObject {
    const communication = example('Communication-fm-attachment.json');
    const attachment = at(communication, 'payload', 0, 'contentAttachment');
    expect(attachment.data).toBe('SGVsbG8=');
    if (size !== undefined) attachment.size = size;
    if (hash !== undefined) attachment.hash = hash;
    return communication;
  }

  it('passes the example, and the right size and SHA-1', () => {
    expect(hello.toString()).toBe('Hello');
    for (const communication of [example('Communication-fm-attachment.json'), withAttachment(5, sha1)]) {
      const outcome = validator.validate(communication);
      expect([...issuesOf(outcome, 'attachment-size'), ...issuesOf(outcome, 'attachment-hash')]).toEqual([]);
    }
  });

  it('fails a size that is not the number of bytes of data', () => {
    const outcome = validator.validate(withAttachment(6, undefined));
    expect(issuesOf(outcome, 'attachment-size')).toEqual(['error at Communication.payload[0].contentAttachment.size']);
  });

  it('fails a hash that is not the SHA-1 of data (the SHA-1 of other bytes)', () => {
    const other = createHash('sha1').update('Hello!').digest('base64');
    const outcome = validator.validate(withAttachment(undefined, other));
    expect(issuesOf(outcome, 'attachment-hash')).toEqual(['error at Communication.payload[0].contentAttachment.hash']);
  });

  it('does not judge a size or hash without data (content at url)', () => {
    // payload[1] has url, size 104274 and a hash of "Hello there": nothing here to compare them with.
    const outcome = validator.validate(example('Communication-fm-attachment.json'));
    expect(at(example('Communication-fm-attachment.json'), 'payload', 1, 'contentAttachment').size).toBe(104274);
    expect([...issuesOf(outcome, 'attachment-size'), ...issuesOf(outcome, 'attachment-hash')]).toEqual([]);
  });
});

const SIP_CATEGORY_VALUESET = (JSON.parse(readFileSync(new URL('../../profiles/ValueSet-sip-category.json', import.meta.url), 'utf8')) as { url: string }).url;

describe('Coding.system is an absolute URI and names a code system, not a ValueSet', () => {
  function observationWithSystem(system: string): JsonObject {
    const observation = example('Observation-example.json');
    const coding = at(observation, 'code', 'coding', 0);
    expect(coding.system).toBe('http://loinc.org');
    coding.system = system;
    return observation;
  }

  it('passes the example (http://loinc.org)', () => {
    const outcome = validator.validate(example('Observation-example.json'));
    expect([...issuesOf(outcome, 'coding-system-relative'), ...issuesOf(outcome, 'coding-system-valueset')]).toEqual([]);
  });

  it('fails a relative system', () => {
    expect(issuesOf(validator.validate(observationWithSystem('loinc')), 'coding-system-relative')).toEqual(['error at Observation.code.coding[0].system']);
  });

  it("fails a ValueSet's canonical URL as a system, known or under http://hl7.org/fhir/ValueSet/", () => {
    expect(issuesOf(validator.validate(observationWithSystem('http://hl7.org/fhir/ValueSet/observation-codes')), 'coding-system-valueset')).toEqual(['error at Observation.code.coding[0].system']);
    // A ValueSet the validator knows, whose URL is not under hl7.org/fhir/ValueSet/: the SIP categories.
    expect(issuesOf(validator.validate(observationWithSystem(SIP_CATEGORY_VALUESET)), 'coding-system-valueset')).toEqual(['error at Observation.code.coding[0].system']);
  });

  it('accepts a code system whose ValueSet has the same URL pattern but is a CodeSystem (v2/v3 systems)', () => {
    const outcome = validator.validate(observationWithSystem('http://terminology.hl7.org/CodeSystem/v3-ActCode'));
    expect([...issuesOf(outcome, 'coding-system-relative'), ...issuesOf(outcome, 'coding-system-valueset')]).toEqual([]);
  });
});

describe('extension contexts (extensibility.html#context)', () => {
  const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace'; // context: element Patient
  const OWN_PREFIX = 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix'; // context: element HumanName.family

  it('passes an extension where its context allows it: on Patient, on HumanName.family (_family)', () => {
    const patient = example('Patient-example.json');
    patient.extension = [{ url: BIRTH_PLACE, valueAddress: { city: 'Falun' } }];
    const name = firstOf(patient.name);
    name._family = { extension: [{ url: OWN_PREFIX, valueString: 'van' }] };
    expect(issuesOf(validator.validate(patient), 'extension-context')).toEqual([]);
  });

  it('fails patient-birthPlace on a HumanName, and humanname-own-prefix on the Patient, as the Java validator does', () => {
    const patient = example('Patient-example.json');
    patient.extension = [{ url: OWN_PREFIX, valueString: 'van' }];
    const name = firstOf(patient.name);
    name.extension = [{ url: BIRTH_PLACE, valueAddress: { city: 'Falun' } }];
    const outcome = validator.validate(patient);
    expect(issuesOf(outcome, 'extension-context').sort()).toEqual(['error at Patient.extension[0]', 'error at Patient.name[0].extension[0]']);
    expect(outcome.issue.map((issue) => issue.details?.text)).toContain(
      `The extension ${BIRTH_PLACE} is not allowed to be used at this point (this element is [Patient.name, HumanName]; allowed for element:Patient)`,
    );
  });

  it('matches a context through the types an element is derived from: a code is a string; Element allows any element', () => {
    const RENDERING_XHTML = 'http://hl7.org/fhir/StructureDefinition/rendering-xhtml'; // context: element string
    const careplan = example('CarePlan-example.json');
    careplan._status = { extension: [{ url: RENDERING_XHTML, valueString: '<b>active</b>' }] };
    careplan.extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/originalText', valueString: 'as said' }]; // context: element Element
    expect(issuesOf(validator.validate(careplan), 'extension-context')).toEqual([]);
    careplan.extension = [{ url: RENDERING_XHTML, valueString: '<b>plan</b>' }];
    expect(issuesOf(validator.validate(careplan), 'extension-context')).toEqual(['error at CarePlan.extension[0]']);
  });
});
