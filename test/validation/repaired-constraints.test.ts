/**
 * The five base R4 constraints fhirpath.js cannot evaluate as written (src/validation/repaired-constraints.ts):
 * each now runs, fails on data that breaks it and passes the official examples — every
 * ElementDefinition of every official StructureDefinition for the eld-* rules.
 */
import type { ElementDefinition, OperationOutcome, StructureDefinition } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator, STRUCTURE_RULES } from '../../src/validation/index.js';
import { InvariantEngine } from '../../src/validation/invariants.js';
import { REPAIRED_CONSTRAINTS } from '../../src/validation/repaired-constraints.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';

const validator = createValidator();
const KEYS: ReadonlySet<string> = new Set(REPAIRED_CONSTRAINTS.map((constraint) => constraint.key));

/** `[rule, expression, severity]` of the repaired rules' issues, and of any constraint that could not be evaluated. */
function findings(outcome: OperationOutcome): [string, string, string][] {
  return outcome.issue.flatMap((issue) => {
    const rule = issue.details?.coding?.[0]?.code ?? '';
    return KEYS.has(rule) || rule === STRUCTURE_RULES.constraintFailed ? [[rule, issue.expression?.[0] ?? '', issue.severity] as [string, string, string]] : [];
  });
}

type Json = Record<string, unknown>;

function example(file: string): Json {
  return structuredClone(readOfficialExample(file)) as unknown as Json;
}

function written(key: string): string {
  const found = REPAIRED_CONSTRAINTS.find((constraint) => constraint.key === key);
  if (found === undefined) throw new Error(key);
  return found.written;
}

describe('the repaired constraints', () => {
  it('are looked up by the exact expressions of the R4 StructureDefinitions', () => {
    const expressions = new Map<string, string>();
    for (const type of ['ElementDefinition', 'Timing', 'RiskAssessment']) {
      const definition = readOfficialExample(`StructureDefinition-${type}.json`) as StructureDefinition;
      for (const element of definition.snapshot?.element ?? []) for (const constraint of element.constraint ?? []) expressions.set(constraint.key, constraint.expression ?? '');
    }
    expect(REPAIRED_CONSTRAINTS.map((constraint) => [constraint.key, constraint.written])).toEqual(REPAIRED_CONSTRAINTS.map((constraint) => [constraint.key, expressions.get(constraint.key)]));
  });
});

describe('eld-16, eld-19, eld-20 (https://hl7.org/fhir/R4/elementdefinition.html#invs)', () => {
  const engine = new InvariantEngine({ remember: false });
  const scope = { container: {}, resolve: () => undefined };
  const evaluate = (key: string, element: Json) => engine.evaluate(written(key), 'ElementDefinition', element, { resource: {}, rootResource: {} }, scope);

  it('pass every element of every official StructureDefinition, snapshot and differential', () => {
    const failures: string[] = [];
    let elements = 0;
    for (const file of listOfficialExamples().filter((name) => name.startsWith('StructureDefinition-'))) {
      const definition = readOfficialExample(file) as StructureDefinition;
      for (const element of [...(definition.snapshot?.element ?? []), ...(definition.differential?.element ?? [])] as (ElementDefinition & Json)[]) {
        elements += 1;
        for (const key of ['eld-16', 'eld-19', 'eld-20']) {
          const result = evaluate(key, element);
          if (!('passed' in result) || !result.passed) failures.push(`${file} ${element.id ?? element.path} ${key} ${JSON.stringify(result)}`);
        }
      }
    }
    expect(elements).toBeGreaterThan(20_000);
    expect(failures).toEqual([]);
  });

  it('eld-16: a slice name is made of letters, digits and / - _ [ ] @', () => {
    expect(evaluate('eld-16', { path: 'Observation.category', sliceName: 'VSCat' })).toEqual({ passed: true });
    expect(evaluate('eld-16', { path: 'Observation.category', sliceName: 'a/b-c_d[0]@e' })).toEqual({ passed: true });
    for (const sliceName of ['VS Cat', 'VS.Cat', 'VS:Cat', 'VSCat!']) expect(evaluate('eld-16', { path: 'Observation.category', sliceName }), sliceName).toEqual({ passed: false });
  });

  it('eld-19: no white space or punctuation in a path segment, judged over the whole path', () => {
    for (const path of ['Observation', 'Observation.value[x]', 'Extension.extension:name', 'Bundle.entry.resource']) expect(evaluate('eld-19', { path }), path).toEqual({ passed: true });
    for (const path of ['Observation.cat egory', 'Observation.category!', 'Observation..code', "Observation.o'code", `Observation.${'x'.repeat(65)}`]) expect(evaluate('eld-19', { path }), path).toEqual({ passed: false });
  });

  it('eld-20: simple alphanumeric names, lower case after the type (a warning)', () => {
    for (const path of ['Observation', 'Observation.value[x]', 'Timing.repeat.boundsDuration']) expect(evaluate('eld-20', { path }), path).toEqual({ passed: true });
    for (const path of ['Observation.Category', 'Observation.code_2', 'Observation.code-x', '1Observation']) expect(evaluate('eld-20', { path }), path).toEqual({ passed: false });
  });

  it('run inside a validated StructureDefinition, where they failed to compile before', () => {
    const profile = example('StructureDefinition-vitalsigns.json');
    expect(findings(validator.validate(profile))).toEqual([]);
    const differential = profile.differential as { element: Json[] };
    const sliced = differential.element.findIndex((element) => element.sliceName === 'VSCat');
    const slice = differential.element[sliced] as Json;
    slice.sliceName = 'VS Cat';
    expect(findings(validator.validate(profile))).toEqual([['eld-16', `StructureDefinition.differential.element[${String(sliced)}]`, 'error']]);
    slice.sliceName = 'VSCat';
    slice.path = 'Observation.Category';
    expect(findings(validator.validate(profile))).toEqual([['eld-20', `StructureDefinition.differential.element[${String(sliced)}]`, 'warning']]);
    slice.path = 'Observation.cat egory';
    expect(findings(validator.validate(profile))).toEqual(
      expect.arrayContaining([
        ['eld-19', `StructureDefinition.differential.element[${String(sliced)}]`, 'error'],
        ['eld-20', `StructureDefinition.differential.element[${String(sliced)}]`, 'warning'],
      ]),
    );
  });
});

describe('tim-9 (https://hl7.org/fhir/R4/datatypes.html#Timing)', () => {
  const withRepeat = (repeat: Json) => {
    const request = example('MedicationRequest-medrx0321.json');
    const dosage = (request.dosageInstruction as Json[])[0] as Json;
    dosage.timing = { repeat: { frequency: 1, period: 1, periodUnit: 'd', ...repeat } };
    return request;
  };
  const at = 'MedicationRequest.dosageInstruction[0].timing.repeat';

  it('passes the official example (an offset after a meal) and an offset with several whens', () => {
    expect(findings(validator.validate(example('MedicationRequest-medrx0321.json')))).toEqual([]);
    expect(findings(validator.validate(withRepeat({ when: ['ACM', 'PCV'], offset: 10 })))).toEqual([]);
    expect(findings(validator.validate(withRepeat({ when: ['C', 'CV'] })))).toEqual([]);
  });

  it('fails an offset without a when, or with one of C, CM, CD, CV among several', () => {
    expect(findings(validator.validate(withRepeat({ offset: 10 })))).toEqual([['tim-9', at, 'error']]);
    expect(findings(validator.validate(withRepeat({ when: ['CM'], offset: 10 })))).toEqual([['tim-9', at, 'error']]);
    expect(findings(validator.validate(withRepeat({ when: ['ACM', 'CV'], offset: 10 })))).toEqual([['tim-9', at, 'error']]);
  });
});

describe('ras-1 (https://hl7.org/fhir/R4/riskassessment.html#invs)', () => {
  const at = 'RiskAssessment.prediction[0].probabilityRange';

  it('holds for a decimal probability (the official example), where it could not be evaluated before', () => {
    expect(findings(validator.validate(example('RiskAssessment-cardiac.json')))).toEqual([]);
  });

  it('a Range of probabilities is in percent of UCUM', () => {
    const withRange = (range: Json) => {
      const assessment = example('RiskAssessment-cardiac.json');
      const prediction = (assessment.prediction as Json[])[0] as Json;
      delete prediction.probabilityDecimal;
      prediction.probabilityRange = range;
      return assessment;
    };
    const percent = (value: number) => ({ value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
    expect(findings(validator.validate(withRange({ low: percent(1), high: percent(3) })))).toEqual([]);
    expect(findings(validator.validate(withRange({ low: percent(1), high: { ...percent(3), code: '1' } })))).toEqual([['ras-1', at, 'error']]);
    expect(findings(validator.validate(withRange({ low: { ...percent(1), system: 'http://example.org/units' } })))).toEqual([['ras-1', at, 'error']]);
  });
});
