/**
 * `readCheckedPlan` (src/fhir/rule-issues.ts) judges a Bundle with a timestamp by one pass over the
 * rules (`judgeSendAndRecorded`) where it ran two (`checkPlan`, then `judgeSend` at the timestamp).
 * Held equal to the two-pass version, written out here as it was, over the Bundles of every example
 * and of generated plans, sent before, during and long after their consents, with `at` given, and
 * with no timestamp.
 */
import fc from 'fast-check';
import type { Bundle } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { planToBundle, readCheckedPlan, ruleIssue, type FhirReadResult } from '../../src/fhir/index.js';
import { bundleToPlan } from '../../src/fhir/read/read-plan.js';
import { checkPlan, CONSENT_IN_FORCE_CODES, judgeSend, parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** readCheckedPlan as it was before the one pass (commit 3481c8b). */
function twoPasses(bundle: unknown, options: { readonly at?: Date } = {}): FhirReadResult {
  const read = bundleToPlan(bundle);
  if (!read.ok) return read;
  const problems = checkPlan(read.plan, options.at === undefined ? {} : { at: options.at });
  const timestamp = (bundle as { timestamp?: unknown }).timestamp;
  const parsed = typeof timestamp === 'string' ? new Date(timestamp) : undefined;
  const sentAt = options.at === undefined && parsed !== undefined && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
  const seen = new Set(problems.map((problem) => `${problem.code} ${problem.pointer}`));
  const atSending = (sentAt === undefined ? [] : judgeSend(read.plan, sentAt)).filter(
    (problem) => CONSENT_IN_FORCE_CODES.has(problem.code) && !seen.has(`${problem.code} ${problem.pointer}`),
  );
  const issues = [...problems, ...atSending].map(ruleIssue);
  if (issues.length === 0) return read;
  const placeholder = read.outcome.issue.length === 1 && read.outcome.issue[0]?.code === 'informational';
  const outcome = { ...read.outcome, issue: [...(placeholder ? [] : read.outcome.issue), ...issues] };
  return issues.some((issue) => issue.severity === 'error') ? { ok: false, outcome } : { ...read, outcome };
}

/** Compares both on the plan's Bundle sent `days` after its version; true when the send was refused for its consent. */
function expectSame(plan: SipPlan, days: number): boolean {
  const bundle: Bundle = planToBundle(plan);
  const sent = { ...bundle, timestamp: new Date(Date.parse(plan.updatedAt) + days * DAY).toISOString() };
  const expected = twoPasses(sent);
  expect(readCheckedPlan(sent)).toEqual(expected);
  const untimed = { ...bundle, timestamp: undefined };
  expect(readCheckedPlan(untimed)).toEqual(twoPasses(untimed));
  const at = { at: new Date(Date.parse(plan.updatedAt) + days * DAY) };
  expect(readCheckedPlan(sent, at)).toEqual(twoPasses(sent, at));
  return !expected.ok && expected.outcome.issue.some((issue) => issue.details?.coding?.some((coding) => CONSENT_IN_FORCE_CODES.has(coding.code ?? '')));
}

describe('readCheckedPlan in one pass over the rules', () => {
  it('answers as the two passes did for every example, sent a year before its version to two years after', () => {
    let refused = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      for (const days of [-365, -1, 0, 1, 120, 400, 730]) if (expectSame(plan, days)) refused += 1;
    }
    // Not vacuous: consents out of force at the send refuse it.
    expect(refused).toBeGreaterThan(exampleFiles.length);
  });

  it('answers as the two passes did for generated plans sent at any instant', () => {
    let refused = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 800 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        if (expectSame(parsed.plan, days)) refused += 1;
      }),
      { numRuns: 80 },
    );
    expect(refused).toBeGreaterThan(0);
  });
});
