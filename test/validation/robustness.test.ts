/**
 * The validator never throws, whatever JSON it is given: each official example with one value
 * anywhere in it replaced by arbitrary JSON still gives an OperationOutcome.
 */
import fc from 'fast-check';
import type { OperationOutcome } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/index.js';
import { readOfficialExample } from '../support/fhir-validators.js';
import { jsonPaths, replacedAt } from '../support/json-paths.js';

const validator = createValidator();
const EXAMPLES = ['CarePlan-example.json', 'Consent-consent-example-basic.json', 'Appointment-example.json', 'Patient-example.json', 'Bundle-bundle-transaction.json'];

function isOutcome(value: OperationOutcome): boolean {
  return value.issue.length > 0 && value.issue.every((issue) => typeof issue.severity === 'string' && typeof issue.code === 'string');
}

describe('validator robustness', () => {
  it.each(EXAMPLES)('%s with one value replaced by arbitrary JSON', (file) => {
    const example: unknown = readOfficialExample(file);
    const all = jsonPaths(example);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue({ maxDepth: 3 }), (index, value) => {
        expect(isOutcome(validator.validate(replacedAt(example, all[index] ?? [], value)))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a coding whose system is an object without a string form, under a checked binding', () => {
    // Found by the property above (seed 885361432): the binding check wrote the system into a lookup key and threw.
    const example = readOfficialExample('Consent-consent-example-basic.json');
    const all = jsonPaths(example);
    const path = all[16] ?? [];
    const outcome = validator.validate(replacedAt(example, path, { toString: null }));
    expect(isOutcome(outcome)).toBe(true);
    expect(path.at(-1)).toBe('system');
  });
});
