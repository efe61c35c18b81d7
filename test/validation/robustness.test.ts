/**
 * The validator never throws, whatever JSON it is given: each official example with one value
 * anywhere in it replaced by arbitrary JSON still gives an OperationOutcome.
 */
import fc from 'fast-check';
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/index.js';
import { readOfficialExample } from '../support/fhir-validators.js';

const validator = createValidator();
const EXAMPLES = ['CarePlan-example.json', 'Consent-consent-example-basic.json', 'Appointment-example.json', 'Patient-example.json', 'Bundle-bundle-transaction.json'];

/** Every path to a value in a JSON document. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [at, ...value.flatMap((item, index) => paths(item, [...at, index]))];
  if (typeof value === 'object' && value !== null) return [at, ...Object.entries(value).flatMap(([key, item]) => paths(item, [...at, key]))];
  return [at];
}

function replaced(document: unknown, at: readonly (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[at[at.length - 1] ?? ''] = value;
  return copy;
}

function isOutcome(value: OperationOutcome): boolean {
  return value.issue.length > 0 && value.issue.every((issue) => typeof issue.severity === 'string' && typeof issue.code === 'string');
}

describe('validator robustness', () => {
  it.each(EXAMPLES)('%s with one value replaced by arbitrary JSON', (file) => {
    const example: unknown = readOfficialExample(file);
    const all = paths(example);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue({ maxDepth: 3 }), (index, value) => {
        expect(isOutcome(validator.validate(replaced(example, all[index] ?? [], value)))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
