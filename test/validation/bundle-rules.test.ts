/**
 * The rules of src/validation/bundle-rules.ts and src/validation/resource-id.ts, each on an official
 * R4 example that passes as published and fails when broken one way (issue #13).
 */
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator, STRUCTURE_RULES } from '../../src/validation/index.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';

const validator = createValidator();

/** The keys of the rules these tests are about. */
const RULES: ReadonlySet<string> = new Set([
  STRUCTURE_RULES.invalidValue,
  STRUCTURE_RULES.fullUrlMissing,
  STRUCTURE_RULES.fullUrlNotAbsolute,
  STRUCTURE_RULES.fullUrlMismatch,
  STRUCTURE_RULES.duplicateEntry,
  STRUCTURE_RULES.danglingReference,
  STRUCTURE_RULES.bundleLink,
  STRUCTURE_RULES.documentReference,
  STRUCTURE_RULES.documentOrphan,
  STRUCTURE_RULES.searchsetSelf,
  STRUCTURE_RULES.searchsetEntry,
]);

/** `[rule, expression, severity]` of the issues of these rules. */
function findings(outcome: OperationOutcome): [string, string, string][] {
  return outcome.issue.flatMap((issue) => {
    const rule = issue.details?.coding?.[0]?.code ?? '';
    return RULES.has(rule) ? [[rule, issue.expression?.[0] ?? '', issue.severity] as [string, string, string]] : [];
  });
}

type Json = Record<string, unknown>;

/** A copy of an official example, as plain JSON to break. */
function example(file: string): Json {
  return structuredClone(readOfficialExample(file)) as unknown as Json;
}

function entries(bundle: Json): Json[] {
  return bundle.entry as Json[];
}

function resourceOf(bundle: Json, index: number): Json {
  return entries(bundle)[index]?.resource as Json;
}

describe('a resource id is of the id type (https://hl7.org/fhir/R4/datatypes.html#id)', () => {
  it('passes the official Patient example, and an id of 64 characters', () => {
    expect(findings(validator.validate(example('Patient-example.json')))).toEqual([]);
    expect(findings(validator.validate({ ...example('Patient-example.json'), id: `A-.9${'x'.repeat(60)}` }))).toEqual([]);
  });

  it('fails an id with other characters, or longer than 64, at the resource and inside a Bundle', () => {
    expect(findings(validator.validate({ ...example('Patient-example.json'), id: 'ex_ample' }))).toEqual([[STRUCTURE_RULES.invalidValue, 'Patient.id', 'error']]);
    expect(findings(validator.validate({ ...example('Patient-example.json'), id: 'x'.repeat(65) }))).toEqual([[STRUCTURE_RULES.invalidValue, 'Patient.id', 'error']]);
    const bundle = example('Bundle-bundle-transaction.json');
    resourceOf(bundle, 2).id = '123 ';
    entries(bundle)[2] = { ...entries(bundle)[2], fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', request: { method: 'PUT', url: 'Patient/123' } };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.invalidValue, 'Bundle.entry[2].resource.id', 'error']]);
  });
});

describe('fullUrl (https://hl7.org/fhir/R4/bundle.html#bundle-unique)', () => {
  it('passes the official collection, transaction, batch and searchset examples', () => {
    for (const file of ['Bundle-101.json', 'Bundle-bundle-transaction.json', 'Bundle-bundle-request-medsallergies.json', 'Bundle-bundle-example.json', 'Bundle-bundle-search-warning.json']) {
      expect(findings(validator.validate(example(file))), file).toEqual([]);
    }
  });

  it('must be absolute', () => {
    const bundle = example('Bundle-bundle-example.json');
    entries(bundle)[0] = { ...entries(bundle)[0], fullUrl: 'MedicationRequest/3123' };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.fullUrlNotAbsolute, 'Bundle.entry[0].fullUrl', 'error']]);
  });

  it('a RESTful fullUrl ends with the resource type and id; a urn:uuid need not', () => {
    const bundle = example('Bundle-101.json');
    entries(bundle)[1] = { ...entries(bundle)[1], fullUrl: 'https://example.com/base/Observation/r99' };
    expect(findings(validator.validate(bundle))).toContainEqual([STRUCTURE_RULES.fullUrlMismatch, 'Bundle.entry[1].fullUrl', 'error']);
    const otherType = example('Bundle-101.json');
    entries(otherType)[1] = { ...entries(otherType)[1], fullUrl: 'https://example.com/base/Specimen/r1' };
    expect(findings(validator.validate(otherType))).toContainEqual([STRUCTURE_RULES.fullUrlMismatch, 'Bundle.entry[1].fullUrl', 'error']);
  });

  it('is required outside transactions and batches', () => {
    const bundle = example('Bundle-101.json');
    delete entries(bundle)[1]?.fullUrl;
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.fullUrlMissing, 'Bundle.entry[1]', 'error']]);
  });
});

describe('duplicate entries (https://hl7.org/fhir/R4/bundle.html#bundle-unique)', () => {
  /** Bundle-101 with urn:uuid fullUrls: the resources are identified by type and id only. */
  function withUrns(): Json {
    const bundle = example('Bundle-101.json');
    entries(bundle).forEach((entry, index) => {
      entry.fullUrl = `urn:uuid:2d9a7c55-0000-4000-8000-${String(index).padStart(12, '0')}`;
    });
    return bundle;
  }

  it('the same type and id twice is an error', () => {
    expect(findings(validator.validate(withUrns()))).toEqual([]);
    const bundle = withUrns();
    resourceOf(bundle, 2).id = resourceOf(bundle, 1).id;
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.duplicateEntry, 'Bundle.entry[2].resource', 'error']]);
  });

  it('but not two versions of it, nor in a history Bundle', () => {
    const versions = withUrns();
    resourceOf(versions, 2).id = resourceOf(versions, 1).id;
    resourceOf(versions, 1).meta = { versionId: '1' };
    resourceOf(versions, 2).meta = { versionId: '2' };
    expect(findings(validator.validate(versions))).toEqual([]);
    const history = withUrns();
    resourceOf(history, 2).id = resourceOf(history, 1).id;
    history.type = 'history';
    for (const entry of entries(history)) entry.request = { method: 'PUT', url: `${String(entry.resource && (entry.resource as Json).resourceType)}/x` };
    expect(findings(validator.validate(history)).filter(([rule]) => rule === STRUCTURE_RULES.duplicateEntry)).toEqual([]);
  });
});

describe('a urn:uuid reference to no entry (https://hl7.org/fhir/R4/bundle.html#references)', () => {
  it('is a warning in a collection, which may refer to what it does not carry', () => {
    const bundle = example('Bundle-101.json');
    (resourceOf(bundle, 0).subject as Json).reference = 'urn:uuid:9b1f8a54-0000-4000-8000-000000000001';
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.danglingReference, 'Bundle.entry[0].resource.subject', 'warning']]);
  });

  it('is an error in a transaction, which must resolve it', () => {
    const bundle = example('Bundle-hla-1.json');
    expect(findings(validator.validate(bundle))).toEqual([]);
    const result = (resourceOf(bundle, 0).result as Json[])[0] as Json;
    result.reference = 'urn:uuid:9b1f8a54-0000-4000-8000-000000000001';
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.danglingReference, 'Bundle.entry[0].resource.result[0]', 'error']]);
  });
});

describe('links (https://hl7.org/fhir/R4/http.html#paging)', () => {
  it('self and next at most once; paging links only in searchsets and histories', () => {
    const twice = example('Bundle-bundle-example.json');
    twice.link = [...(twice.link as Json[]), { relation: 'next', url: 'https://example.com/base/MedicationRequest?page=3' }];
    expect(findings(validator.validate(twice))).toEqual([[STRUCTURE_RULES.bundleLink, 'Bundle.link[2].relation', 'error']]);
    const paged = example('Bundle-101.json');
    paged.link = [{ relation: 'next', url: 'https://example.com/base/Bundle?page=2' }];
    expect(findings(validator.validate(paged))).toEqual([[STRUCTURE_RULES.bundleLink, 'Bundle.link[0].relation', 'error']]);
  });
});

describe('document Bundles (https://hl7.org/fhir/R4/documents.html#content)', () => {
  const OBSERVATION = (subject: string) => ({ resourceType: 'Observation', id: 'extra', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }, status: 'final', code: { text: 'x' }, subject: { reference: subject } });

  it('the official document passes', () => {
    expect(findings(validator.validate(example('Bundle-father.json')))).toEqual([]);
  });

  it("the Composition's references resolve inside the Bundle", () => {
    const bundle = example('Bundle-father.json');
    resourceOf(bundle, 0).custodian = { reference: 'Organization/elsewhere' };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.documentReference, 'Bundle.entry[0].resource.custodian', 'error']]);
  });

  it('a version-specific reference names the entry of that version', () => {
    const subject = 'http://fhir.healthintersections.com.au/open/Patient/d1';
    const versioned = example('Bundle-father.json');
    resourceOf(versioned, 0).subject = { reference: `${subject}/_history/2` };
    expect(findings(validator.validate(versioned))).toEqual([[STRUCTURE_RULES.documentReference, 'Bundle.entry[0].resource.subject', 'error']]);
    const patient = entries(versioned).findIndex((entry) => entry.fullUrl === subject);
    resourceOf(versioned, patient).meta = { versionId: '2' };
    expect(findings(validator.validate(versioned))).toEqual([]);
  });

  it('an entry not reached from the Composition is an error; one reached only backwards a warning, unless a Provenance', () => {
    const orphan = example('Bundle-father.json');
    entries(orphan).push({ fullUrl: 'urn:uuid:6a2e1d9c-0000-4000-8000-000000000001', resource: OBSERVATION('Patient/somebody-else') });
    expect(findings(validator.validate(orphan))).toEqual([[STRUCTURE_RULES.documentOrphan, 'Bundle.entry[8]', 'error']]);

    const backwards = example('Bundle-father.json');
    entries(backwards).push({ fullUrl: 'urn:uuid:6a2e1d9c-0000-4000-8000-000000000001', resource: OBSERVATION('http://fhir.healthintersections.com.au/open/Patient/d1') });
    expect(findings(validator.validate(backwards))).toEqual([[STRUCTURE_RULES.documentOrphan, 'Bundle.entry[8]', 'warning']]);

    const provenance = example('Bundle-father.json');
    const composition = String(entries(provenance)[0]?.fullUrl);
    entries(provenance).push({
      fullUrl: 'urn:uuid:6a2e1d9c-0000-4000-8000-000000000002',
      resource: { resourceType: 'Provenance', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }, target: [{ reference: composition }], recorded: '2020-01-01T00:00:00Z', agent: [{ who: { reference: 'Practitioner/example' } }] },
    });
    expect(findings(validator.validate(provenance))).toEqual([]);
  });
});

describe('searchset Bundles (https://hl7.org/fhir/R4/bundle.html#searchset)', () => {
  it('has a self link (a warning)', () => {
    const bundle = example('Bundle-bundle-example.json');
    bundle.link = (bundle.link as Json[]).filter((link) => link.relation !== 'self');
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.searchsetSelf, 'Bundle', 'warning']]);
  });

  it('a match is of the type searched for', () => {
    const bundle = example('Bundle-bundle-example.json');
    (bundle.link as Json[])[0] = { relation: 'self', url: 'https://example.com/base/Observation?patient=347' };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.searchsetEntry, 'Bundle.entry[0].resource', 'error']]);
  });

  it('a match or an include has an id', () => {
    const bundle = example('Bundle-bundle-example.json');
    entries(bundle)[1] = { ...entries(bundle)[1], fullUrl: 'urn:uuid:6a2e1d9c-0000-4000-8000-000000000003' };
    delete resourceOf(bundle, 1).id;
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.searchsetEntry, 'Bundle.entry[1].resource', 'error']]);
  });

  it('an outcome is an OperationOutcome', () => {
    const bundle = example('Bundle-bundle-example.json');
    entries(bundle)[1] = { ...entries(bundle)[1], search: { mode: 'outcome' } };
    expect(findings(validator.validate(bundle))).toEqual([[STRUCTURE_RULES.searchsetEntry, 'Bundle.entry[1].resource', 'error']]);
  });
});

describe('the official examples', () => {
  /**
   * What these rules find in the official R4 Bundles (those of up to 100 entries; the larger ones
   * are the definition Bundles, whose entries are also published one by one) and in the one
   * example with a long id — each a real disagreement with the specification, read by hand:
   * - two message Bundles give `http://acme.com/ehr/fhir/Patient/pat12` as the fullUrl of Patient/pat2;
   * - Bundle-lri-example gives each Observation a fullUrl `…/Observation/lri-<id>` for the id `<id>`;
   * - a SearchParameter's id has 67 characters, more than the 64 of the id type.
   */
  it('are flagged only where they disagree with the specification', () => {
    const bundles = listOfficialExamples().filter((file) => file.startsWith('Bundle-') && (((readOfficialExample(file) as unknown as Json).entry as unknown[] | undefined)?.length ?? 0) <= 100);
    expect(bundles.length).toBeGreaterThan(25);
    const found = [...bundles, 'SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json'].flatMap((file) =>
      findings(validator.validate(readOfficialExample(file))).map(([rule, expression, severity]) => `${file} ${rule} ${expression} ${severity}`),
    );
    const lri = Array.from({ length: 16 }, (_, index) => index + 1).map((index) => `Bundle-lri-example.json ${STRUCTURE_RULES.fullUrlMismatch} Bundle.entry[${String(index)}].fullUrl error`);
    expect(found).toEqual([
      `Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json ${STRUCTURE_RULES.fullUrlMismatch} Bundle.entry[2].fullUrl error`,
      `Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json ${STRUCTURE_RULES.fullUrlMismatch} Bundle.entry[3].fullUrl error`,
      ...lri,
      `SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json ${STRUCTURE_RULES.invalidValue} SearchParameter.id error`,
    ]);
  });
});
