/**
 * The mutation corpus (mutation-corpus.ts) against the validator: each official example must pass
 * unbroken (otherwise the row, not the validator, is wrong) and, broken in its one way, must have an
 * issue with the row's rule key at (or below) the row's FHIRPath.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { createValidator, hasErrors } from '../../src/validation/index.js';
import { MUTATION_CORPUS } from './mutation-corpus.js';

const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const validator = createValidator();

function readExample(file: string): unknown {
  return JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as unknown;
}

function describeOutcome(outcome: OperationOutcome): string {
  if (outcome.issue.length === 0) return '(no issues)';
  return outcome.issue
    .map((issue) => `${issue.severity} ${issue.details?.coding?.[0]?.code ?? issue.code} at ${issue.expression?.[0] ?? '(resource)'}: ${issue.details?.text ?? ''}`)
    .join('\n');
}

const keyOf = (issue: OperationOutcomeIssue): string | undefined => issue.details?.coding?.[0]?.code;

describe('mutation corpus: one break per official example, one expected rule', () => {
  it('has unique descriptions (they name the rows)', () => {
    const names = MUTATION_CORPUS.map((row) => `${row.example}: ${row.describe}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every mutation changes its example', () => {
    for (const row of MUTATION_CORPUS) {
      const broken = readExample(row.example);
      row.mutate(broken);
      expect(JSON.stringify(broken), `${row.example}: ${row.describe}`).not.toBe(JSON.stringify(readExample(row.example)));
    }
  });

  for (const row of MUTATION_CORPUS) {
    const severity = row.severity ?? 'error';
    it(`${row.example}: ${row.describe} → ${severity} ${row.key} at ${row.expression}`, () => {
      const intact = validator.validate(readExample(row.example));
      expect(hasErrors(intact), `the unbroken ${row.example} must have no error (else the row is wrong):\n${describeOutcome(intact)}`).toBe(false);
      const broken = readExample(row.example);
      row.mutate(broken);
      const outcome = validator.validate(broken);
      const found = outcome.issue.some(
        (issue) =>
          issue.severity === severity &&
          keyOf(issue) === row.key &&
          (issue.expression?.[0] === row.expression || issue.expression?.[0]?.startsWith(`${row.expression}.`) === true || issue.expression?.[0]?.startsWith(`${row.expression}[`) === true),
      );
      expect(found, `expected ${severity} ${row.key} at ${row.expression}; the validator said:\n${describeOutcome(outcome)}`).toBe(true);
    });
  }
});
