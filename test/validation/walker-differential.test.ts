/**
 * The walker compiled per StructureDefinition node (src/validation/walker.ts: each node's children,
 * JSON names, constraint lists with their expressions repaired, compiled and given their native
 * checks, bindings and slice discriminators worked out once) against the walker as it was before
 * (test/support/reference-walker.ts, kept unchanged), each in a validator of its own: the
 * OperationOutcomes must be deep-equal — the same issues in the same order — on every official R4
 * example, the mutation corpus, the project's example plans (examples/, examples/invalid,
 * examples/warnings) as SIP Bundles, the adult Bundle broken by every profile breaker, generated
 * plans, and SIP Bundles and official examples with values replaced, removed, renamed or repeated
 * anywhere in them. Both validators run with the result cache and native checks on (as the server
 * runs) and, on the SIP Bundles, off (every expression through fhirpath.js).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { Bundle, OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { PROFILE, planToBundle } from '../../src/fhir/index.js';
import { parsePlan, parsePlanText } from '../../src/sip/index.js';
import { createValidator, type ValidatorOptions } from '../../src/validation/validator.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';
import { jsonPaths, replacedAt } from '../support/json-paths.js';
import { BREAKERS } from '../support/profile-breakers.js';
import { Walker as ReferenceWalker } from '../support/reference-walker.js';
import { MUTATION_CORPUS } from './mutation-corpus.js';

type Options = Omit<ValidatorOptions, 'walker'>;

/** The current validator and the reference one, with the same options. */
function pair(options: Options): { readonly current: ReturnType<typeof createValidator>; readonly reference: ReturnType<typeof createValidator> } {
  return { current: createValidator(options), reference: createValidator({ ...options, walker: (store, terminology, engine) => new ReferenceWalker(store, terminology, engine) }) };
}

const DEFAULT = pair({});
const PLAIN = pair({ rememberResults: false, nativeChecks: false, hoistInvariants: false, skipAbsent: false });

/** Counts what was compared, so a test that compared nothing fails. */
let compared = 0;
let withIssues = 0;

function same(label: string, resource: unknown, profiles: readonly string[] = [], validators = DEFAULT): OperationOutcome {
  const expected = validators.reference.validate(resource, { profiles });
  const actual = validators.current.validate(resource, { profiles });
  compared += 1;
  if (expected.issue.some((issue) => issue.severity !== 'information')) withIssues += 1;
  // isDeepStrictEqual first: toStrictEqual's diff is built only when they differ.
  if (!isDeepStrictEqual(actual, expected)) expect(actual, label).toStrictEqual(expected);
  return actual;
}

const sipBundle = (file: string): Bundle => planToBundle(readExample(file));

/** The SIP plans of examples/invalid and examples/warnings that parse, as Bundles. */
function otherExampleBundles(): { readonly name: string; readonly bundle: Bundle }[] {
  return ['examples/invalid', 'examples/warnings'].flatMap((dir) =>
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        const parsed = parsePlanText(readFileSync(path.join(dir, file), 'utf8'));
        return parsed.ok ? [{ name: `${dir}/${file}`, bundle: planToBundle(parsed.plan) }] : [];
      }),
  );
}

const OFFICIAL = listOfficialExamples();
const CHUNK = 400;
const chunks = Array.from({ length: Math.ceil(OFFICIAL.length / CHUNK) }, (_, index) => OFFICIAL.slice(index * CHUNK, (index + 1) * CHUNK));

/** JSON values a walk treats differently: absent, null, empty, wrong JSON types, an id alone, an unknown property. */
const ODD: readonly unknown[] = [undefined, null, [], {}, '', ' ', 'text', 0, 1.5, -1, true, [null], [{}], { id: 'x' }, { unknown: 1 }, [1, 2], { extension: [{ url: 'http://example.org/x', valueString: 'x' }] }];

/**
 * One edit of a JSON document at a path: a value replaced (by one of {@link ODD} or arbitrary JSON),
 * removed, its property renamed (to `_name`, to another choice type, to an unknown name), repeated
 * as an array or beside itself under a second choice name, or an array reordered.
 */
const editArbitrary = fc.record({
  at: fc.nat(),
  how: fc.constantFrom('odd', 'json', 'remove', 'shadow', 'rename-type', 'rename-unknown', 'twice', 'second-choice', 'reverse', 'first'),
  odd: fc.constantFrom(...ODD),
  json: fc.jsonValue({ maxDepth: 2 }),
});

type Edit = typeof editArbitrary extends fc.Arbitrary<infer T> ? T : never;
type Container = Record<string | number, unknown>;

const CHOICE_SUFFIXES = ['String', 'Code', 'Boolean', 'Integer', 'Coding', 'CodeableConcept', 'Reference', 'Period', 'DateTime', 'Quantity'];

function edited(document: unknown, edit: Edit): unknown {
  const paths = jsonPaths(document).filter((at) => at.length > 0);
  const at = paths[edit.at % paths.length];
  if (at === undefined) return document;
  if (edit.how === 'odd' || edit.how === 'json') return replacedAt(document, at, edit.how === 'odd' ? structuredClone(edit.odd) : edit.json);
  const copy = structuredClone(document);
  let parent = copy as Container;
  for (const step of at.slice(0, -1)) parent = parent[step] as Container;
  const last = at[at.length - 1] ?? '';
  const value = parent[last];
  if (edit.how === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else Reflect.deleteProperty(parent, last);
    return copy;
  }
  if (edit.how === 'reverse' || edit.how === 'first') {
    // An array's items in another order, or the array's item moved to the front of it (slices are told apart by any item).
    if (Array.isArray(value)) value.reverse();
    else if (Array.isArray(parent)) {
      const items: unknown[] = parent;
      items.unshift(...items.splice(Number(last), 1));
    }
    return copy;
  }
  if (edit.how === 'twice') {
    if (Array.isArray(parent)) parent.push(structuredClone(value));
    else parent[last] = [value, structuredClone(value)];
    return copy;
  }
  if (Array.isArray(parent) || typeof last !== 'string') return copy;
  const suffix = CHOICE_SUFFIXES[edit.at % CHOICE_SUFFIXES.length] ?? 'String';
  const match = /^(_?[a-z][A-Za-z]*?)([A-Z][A-Za-z]*)?$/.exec(last);
  const stem = match?.[1] ?? last;
  const renamed = edit.how === 'shadow' ? `_${last}` : edit.how === 'rename-unknown' ? `${last}X` : `${stem}${suffix}`;
  if (edit.how !== 'second-choice') Reflect.deleteProperty(parent, last);
  if (renamed !== last) parent[renamed] = edit.how === 'shadow' ? { id: 's', extension: [{ url: 'http://example.org/x', valueString: 'x' }] } : value;
  return copy;
}

/** A copy of a JSON document with every array's items in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed).reverse();
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reversed(item)]));
  return value;
}

describe('the compiled walker gives the reference walker\'s OperationOutcome', () => {
  it.each(chunks.map((files, index) => [index + 1, chunks.length, files] as const))('on the official R4 examples, part %i of %i', (_part, _of, files) => {
    for (const file of files) same(file, readOfficialExample(file));
  }, 300_000);

  it('on the mutation corpus (official examples each broken in one way)', () => {
    for (const row of MUTATION_CORPUS) {
      const broken = readOfficialExample(row.example) as unknown;
      row.mutate(broken);
      same(`${row.example}: ${row.describe}`, broken);
    }
  }, 120_000);

  it('on the example plans\' SIP Bundles, with the SIP Bundle profile and without, every engine option on and off', () => {
    const bundles = [...exampleFiles.map((file) => ({ name: file, bundle: sipBundle(file) })), ...otherExampleBundles()];
    expect(bundles.length).toBeGreaterThan(exampleFiles.length);
    for (const { name, bundle } of bundles) {
      for (const validators of [DEFAULT, PLAIN]) {
        same(name, bundle, [PROFILE.bundle], validators);
        same(`${name} (no profile named)`, bundle, [], validators);
      }
      const { meta: _meta, ...unprofiled } = bundle;
      same(`${name} without meta`, { ...unprofiled, entry: bundle.entry?.map(({ resource, ...entry }) => ({ ...entry, resource: resource === undefined ? undefined : { ...resource, meta: undefined } })) });
    }
  }, 120_000);

  it('on the adult Bundle broken by every profile breaker', () => {
    for (const breaker of BREAKERS) {
      const broken = structuredClone(sipBundle('adult-psychiatry-addiction.json'));
      breaker.apply(broken);
      for (const validators of [DEFAULT, PLAIN]) same(`${breaker.key}: ${breaker.what}`, broken, [PROFILE.bundle], validators);
    }
  }, 120_000);

  it('on generated plans\' SIP Bundles', () => {
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
        same('a generated plan', planToBundle(parsed.plan), [PROFILE.bundle]);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('on SIP Bundles edited anywhere (values replaced, removed, renamed, repeated)', () => {
    const bases = exampleFiles.map((file) => sipBundle(file));
    fc.assert(
      fc.property(fc.nat({ max: bases.length - 1 }), fc.array(editArbitrary, { minLength: 1, maxLength: 4 }), fc.boolean(), (which, edits, plain) => {
        const bundle = edits.reduce<unknown>((document, edit) => edited(document, edit), bases[which]);
        same(`example ${String(which)} edited ${JSON.stringify(edits)}`, bundle, [PROFILE.bundle], plain ? PLAIN : DEFAULT);
      }),
      { numRuns: 250 },
    );
  }, 300_000);

  it('on official examples of many types edited anywhere', () => {
    const files = OFFICIAL.filter((file) => /^(CarePlan|CareTeam|Consent|Appointment|Goal|Patient|Organization|Practitioner|PractitionerRole|RelatedPerson|Task|Observation|Questionnaire|StructureDefinition|Bundle|MedicationRequest|ValueSet)-/.test(file)).slice(0, 400);
    const examples = files.map((file) => readOfficialExample(file) as unknown);
    fc.assert(
      fc.property(fc.nat({ max: examples.length - 1 }), fc.array(editArbitrary, { minLength: 1, maxLength: 3 }), (which, edits) => {
        const example = edits.reduce((document, edit) => edited(document, edit), examples[which]);
        same(`${files[which] ?? ''} edited ${JSON.stringify(edits)}`, example);
      }),
      { numRuns: 250 },
    );
  }, 300_000);

  it('on a coding whose system is an array (the counterexample of seed 3935825): a system that is not a string is none, in both walkers', () => {
    const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    for (const system of [[clinical], [clinical, clinical]]) {
      const condition = { resourceType: 'Condition', subject: { reference: 'Patient/p' }, clinicalStatus: { coding: [{ system, code: 'active' }] } };
      const outcome = same(`system ${JSON.stringify(system)}`, condition);
      const texts = outcome.issue.map((issue) => issue.diagnostics ?? issue.details?.text ?? '');
      expect(texts).toContain(`(no system)|active is not in the value set http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1 that Condition.clinicalStatus is bound to (required)`);
    }
  });

  it('on official examples and SIP Bundles with every array reversed (slices are told apart by any item of an array along the discriminator)', () => {
    const files = OFFICIAL.filter((file) => /^(Observation|Patient|CarePlan|Consent|Bundle)-/.test(file));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) same(`${file} reversed`, reversed(readOfficialExample(file)));
    for (const file of exampleFiles) same(`${file} reversed`, reversed(sipBundle(file)), [PROFILE.bundle]);
  }, 300_000);

  it('compared many outcomes, most of them with issues', () => {
    expect(compared).toBeGreaterThan(OFFICIAL.length + 1_000);
    expect(withIssues).toBeGreaterThan(1_000);
  });
});
