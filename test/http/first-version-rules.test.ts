/**
 * The rules on a new plan's first version (src/sip/rules/index.ts, `checkFirstVersionWithBasis`, as
 * src/http/record-plan.ts calls it for a create): the findings of the rules that read neither the
 * instant nor the version fields when the transaction's plan was judged (`judgeSendAndRecorded`, as
 * `readCheckedPlan` judges it) are taken over, and only the other rules run on version 1. Held equal to
 * `checkPlanWithBasis(first)` — problems, send basis and the basis's stored text — over every example
 * and generated plans, with the plan sent at any version, sent and recorded at instants before, during
 * and long after its consents, and its decisions, answers, meetings and closure on either side of
 * both instants. Not vacuous: fewer rules run than in a full check.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asFirstVersion } from '../../src/http/fhir-transaction.js';
import { planToBundle, readCheckedPlan } from '../../src/fhir/index.js';
import { RULES, checkFirstVersionWithBasis, checkPlanWithBasis, judgeSendAndRecorded, parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** `plan` sent at `version`: every approval for that version, as a transaction that creates a plan has them. */
function sentAt(plan: SipPlan, version: number): SipPlan {
  return { ...plan, version, approvals: plan.approvals.map((approval) => ({ ...approval, version })) };
}

/** How many times a rule's `check` ran during `run`. */
function ruleRuns<T>(run: () => T): { readonly result: T; readonly runs: number } {
  const spies = RULES.map((rule) => vi.spyOn(rule, 'check'));
  try {
    const result = run();
    return { result, runs: spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0) };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('the rules on a first version, taken over from the reading of the plan sent', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  let taken = 0;
  let full = 0;
  let problemsSeen = 0;
  let differingFindings = 0;

  /** Judges `sent` at `sendAt` as the reader does, records it as version 1 at `recordAt`, and holds the two checks equal. */
  function check(sent: SipPlan, sendAt: Date, recordAt: Date): void {
    judgeSendAndRecorded(sent, sendAt);
    const first = asFirstVersion(sent, recordAt);
    if (first === undefined) throw new Error('the plan sent has an approval of another version');
    const expected = ruleRuns(() => checkPlanWithBasis(first));
    const got = ruleRuns(() => checkFirstVersionWithBasis(first, sent));
    expect(got.result.problems).toEqual(expected.result.problems);
    expect(got.result.basis).toEqual(expected.result.basis);
    expect(JSON.stringify(got.result.basis)).toBe(JSON.stringify(expected.result.basis));
    expect(got.runs).toBeLessThanOrEqual(expected.runs);
    taken += expected.runs - got.runs;
    full += expected.runs;
    problemsSeen += expected.result.problems.length;
    // Cases where the version fields change what a rule finds: the reason the rules reading them run again.
    const asSent = checkPlanWithBasis(sent).problems.map((problem) => `${problem.code} ${problem.message}`);
    const asFirst = expected.result.problems.map((problem) => `${problem.code} ${problem.message}`);
    if (asSent.join('\n') !== asFirst.join('\n')) differingFindings += 1;
  }

  it('equals checkPlanWithBasis on every example, sent at several versions and recorded before, at and long after it was sent', () => {
    const examples: SipPlan[] = [...exampleFiles.map((file) => readExample(file)), leakyProtectedPlan()];
    for (const plan of examples) {
      const updated = Date.parse(plan.updatedAt);
      for (const version of [1, plan.version, plan.version + 3]) {
        for (const [sendDays, recordDays] of [
          [0, 0],
          [0, 1],
          [1, -2],
          [-30, 400],
          [200, 730],
          [-365, -400],
        ] as const) {
          check(sentAt(plan, version), new Date(updated + sendDays * DAY), new Date(updated + recordDays * DAY));
        }
      }
    }
    expect(problemsSeen).toBeGreaterThan(0);
    expect(differingFindings).toBeGreaterThan(0);
    // Most rules are taken over: the point of the change.
    expect(taken).toBeGreaterThan(full / 2);
  });

  it('equals checkPlanWithBasis over generated plans at any version and instants', () => {
    const before = { taken, full };
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: 1, max: 40 }), fc.integer({ min: -400, max: 800 }), fc.integer({ min: -400, max: 800 }), (json, version, sendDays, recordDays) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        const updated = Date.parse(parsed.plan.updatedAt);
        check(sentAt(parsed.plan, version), new Date(updated + sendDays * DAY), new Date(updated + recordDays * DAY));
      }),
      { numRuns: 400 },
    );
    expect(taken - before.taken).toBeGreaterThan((full - before.full) / 2);
  });

  it('takes over from the transaction reader: a Bundle read and checked, then its plan as version 1', () => {
    const plan = readExample('elderly-discharge-multimorbidity.json');
    const at = new Date(Date.parse(plan.updatedAt) + DAY);
    const read = readCheckedPlan(planToBundle(plan, undefined, new Date(plan.updatedAt)));
    if (!read.ok) throw new Error(JSON.stringify(read.outcome));
    const first = asFirstVersion(read.plan, at);
    if (first === undefined) throw new Error('no first version');
    const expected = ruleRuns(() => checkPlanWithBasis(first));
    const got = ruleRuns(() => checkFirstVersionWithBasis(first, read.plan));
    expect(got.result).toEqual(expected.result);
    expect(got.runs).toBeLessThan(expected.runs / 2);
  });

  it('runs every rule for a plan not judged, or one changed in more than its version fields', () => {
    const plan = sentAt(readExample('adult-psychiatry-addiction.json'), 2);
    const at = new Date(Date.parse(plan.updatedAt) + DAY);
    const first = asFirstVersion(plan, at);
    if (first === undefined) throw new Error('no first version');
    const full = ruleRuns(() => checkPlanWithBasis(first)).runs;
    // Never judged: nothing to take over.
    expect(ruleRuns(() => checkFirstVersionWithBasis(first, plan)).runs).toBe(full);
    judgeSendAndRecorded(plan, at);
    expect(ruleRuns(() => checkFirstVersionWithBasis(first, plan)).runs).toBeLessThan(full);
    // Another field changed (a goal dropped): every rule runs, and finds what a full check finds.
    const changed = { ...first, goals: first.goals.slice(1) };
    const got = ruleRuns(() => checkFirstVersionWithBasis(changed, plan));
    expect(got.runs).toBe(ruleRuns(() => checkPlanWithBasis(changed)).runs);
    expect(got.result).toEqual(checkPlanWithBasis(changed));
    // An approval changed in more than its version: every rule runs too.
    const [approval] = first.approvals;
    if (approval !== undefined) {
      const otherApproval = { ...first, approvals: [{ ...approval, principal: `${approval.principal}-x` }, ...first.approvals.slice(1)] };
      expect(ruleRuns(() => checkFirstVersionWithBasis(otherApproval, plan)).result).toEqual(checkPlanWithBasis(otherApproval));
      expect(ruleRuns(() => checkFirstVersionWithBasis(otherApproval, plan)).runs).toBe(ruleRuns(() => checkPlanWithBasis(otherApproval)).runs);
    }
  });
});
