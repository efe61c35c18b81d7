/**
 * The example plans as a test corpus: every valid example passes every rule, and every invalid
 * example (one per rule, built by test/support/mutations.ts) breaks its own rule and no other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlan, parsePlanText, RULES } from '../../src/sip/index.js';
import { EXAMPLES_DIR, INVALID_DIR, renderInvalidExamples, WARNINGS_DIR } from '../support/build-invalid-examples.js';
import { MUTATIONS } from '../support/mutations.js';

const validFiles = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json')).sort();
const jsonIn = (dir: string): string[] => readdirSync(dir).filter((file) => file.endsWith('.json')).sort();
const invalidFiles = jsonIn(INVALID_DIR).map((file) => path.join(INVALID_DIR, file));
const warningFiles = jsonIn(WARNINGS_DIR).map((file) => path.join(WARNINGS_DIR, file));
const codeOf = (file: string): string => path.basename(file, '.json');

function check(file: string) {
  const parsed = parsePlanText(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`${file} does not parse: ${JSON.stringify(parsed.problems)}`);
  return checkPlan(parsed.plan);
}

describe('valid examples', () => {
  it('has the eight situations the project promises', () => {
    expect(validFiles).toEqual(
      expect.arrayContaining([
        'adult-psychiatry-addiction.json',
        'child-two-guardians-school.json',
        'elderly-discharge-multimorbidity.json',
        'representative-god-man.json',
        'awaiting-decision.json',
        'closed-consent-withdrawn.json',
        'protected-identity.json',
        'follow-up-revised-goals.json',
      ]),
    );
  });

  it.each(validFiles)('%s passes every rule with no warning', (file) => {
    expect(check(path.join(EXAMPLES_DIR, file))).toEqual([]);
  });
});

describe('invalid examples', () => {
  it('every error rule has an invalid example, every warning rule a warning example, and nothing else is there', () => {
    const codes = (severity: string): string[] => RULES.filter((rule) => rule.severity === severity).map((rule) => rule.code).sort();
    expect(invalidFiles.map(codeOf).sort()).toEqual(codes('error'));
    expect(warningFiles.map(codeOf).sort()).toEqual(codes('warning'));
    expect(MUTATIONS.map((mutation) => mutation.code).sort()).toEqual(RULES.map((rule) => rule.code).sort());
  });

  it('are what test/support/mutations.ts makes of the valid examples (run npm run examples:invalid)', () => {
    for (const { file, text } of renderInvalidExamples()) {
      expect(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it.each([...invalidFiles, ...warningFiles])('%s breaks its rule and no other', (file) => {
    const code = codeOf(file);
    const rule = RULES.find((candidate) => candidate.code === code);
    const problems = check(file);
    expect(problems.length).toBeGreaterThan(0);
    expect(new Set(problems.map((problem) => problem.code))).toEqual(new Set([code]));
    for (const problem of problems) {
      expect(problem.severity).toBe(rule?.severity);
      expect(problem.pointer).toMatch(/^(\/[^/]+)*$/);
      expect(problem.message.length).toBeGreaterThan(20);
    }
  });
});
