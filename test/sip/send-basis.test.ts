/**
 * `judgeSendWith(plan, sendBasisOf(plan), at)` (src/sip/rules/index.ts): the findings of the rules that
 * do not read the instant, kept with a version when it is written, and the rules that do run at the
 * moment of the read. Held equal to `judgeSend(plan, at)` over every example and generated plans, at
 * instants before, during and long after their consents, and through a JSON round trip (the store
 * keeps the basis as text).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RULES, checkPlan, checkPlanWithBasis, judgeSend, judgeSendAndRecorded, judgeSendAndRecordedWith, judgeSendWith, parsePlan, sendBasisOf, type SendBasis, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** Checks the basis gives judgeSend at `at`; true when judgeSend found an error there (a refusal). */
function expectSameAsJudgeSend(plan: SipPlan, basis: SendBasis, at: Date): boolean {
  const expected = judgeSend(plan, at);
  expect(judgeSendWith(plan, basis, at)).toEqual(expected);
  return expected.some((problem) => problem.severity === 'error');
}

const stored = (plan: SipPlan): SendBasis => JSON.parse(JSON.stringify(sendBasisOf(plan))) as SendBasis;

describe('send basis', () => {
  const examples: [string, SipPlan][] = [...exampleFiles.map((file): [string, SipPlan] => [file, readExample(file)]), ['leaky protected plan', leakyProtectedPlan()]];

  it('gives judgeSend for every example, from a year before its version to two years after, refusals included', () => {
    let refused = 0;
    let sendable = 0;
    for (const [, plan] of examples) {
      const basis = stored(plan);
      const recordedAt = Date.parse(plan.updatedAt);
      for (const days of [-365, -30, -1, 0, 1, 45, 120, 200, 300, 400, 730]) {
        if (expectSameAsJudgeSend(plan, basis, new Date(recordedAt + days * DAY))) refused += 1;
        else sendable += 1;
      }
    }
    // Both outcomes occur: the consents of the examples last at most a year.
    expect(refused).toBeGreaterThan(examples.length);
    expect(sendable).toBeGreaterThan(examples.length);
  });

  it('keeps the consent rules to be judged at the read, and nothing they found when the version was written', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const basis = sendBasisOf(adult);
    const timed = basis.rules.filter((rule) => 'timed' in rule).map((rule) => rule.code);
    expect(timed).toEqual(expect.arrayContaining(['consent.missing', 'consent.expired', 'consent.withdrawn']));
    for (const rule of basis.rules) if (timed.includes(rule.code)) expect(rule).not.toHaveProperty('findings');
    // Two years on the consent has expired: the read finds it though the basis was computed when it was in force.
    const late = judgeSendWith(adult, basis, new Date(Date.parse(adult.updatedAt) + 730 * DAY));
    expect(late.map((problem) => problem.code)).toContain('consent.expired');
  });

  it('gives judgeSend over generated plans at any instant', () => {
    let refused = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 800 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        if (expectSameAsJudgeSend(parsed.plan, stored(parsed.plan), new Date(Date.parse(parsed.plan.updatedAt) + days * DAY))) refused += 1;
      }),
      { numRuns: 300 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses a basis naming a rule this rule set does not have', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    expect(() => judgeSendWith(adult, { rules: [{ code: 'no.such-rule', findings: [] }] }, new Date(adult.updatedAt))).toThrow(/no\.such-rule/);
    // Out of order is refused too: each rule is looked for after the one before.
    const [first, second] = RULES;
    if (first === undefined || second === undefined) throw new Error('no rules');
    expect(() => judgeSendWith(adult, { rules: [{ code: second.code, findings: [] }, { code: first.code, findings: [] }] }, new Date(adult.updatedAt))).toThrow(RangeError);
  });

  it('gives judgeSendAndRecorded (a SIP read: the send now and the version as recorded) for every example and generated plans', () => {
    let refused = 0;
    let recordedFindings = 0;
    let timedRecorded = 0;
    const check = (plan: SipPlan, at: Date): void => {
      const expected = judgeSendAndRecorded(plan, at);
      const basis = stored(plan);
      expect(judgeSendAndRecordedWith(plan, basis, at)).toEqual(expected);
      if (expected.send.some((problem) => problem.severity === 'error')) refused += 1;
      recordedFindings += expected.recorded.length;
      const timed = new Set(basis.rules.filter((rule) => 'timed' in rule).map((rule) => rule.code));
      timedRecorded += expected.recorded.filter((problem) => timed.has(problem.code)).length;
    };
    for (const [, plan] of examples) {
      for (const days of [-365, -1, 0, 1, 120, 400, 730]) check(plan, new Date(Date.parse(plan.updatedAt) + days * DAY));
      // The same plan recorded two years later: its consent had expired when the version was recorded.
      const late = { ...plan, updatedAt: new Date(Date.parse(plan.updatedAt) + 730 * DAY).toISOString() };
      for (const days of [-800, 0, 30]) check(late, new Date(Date.parse(late.updatedAt) + days * DAY));
    }
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 800 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        check(parsed.plan, new Date(Date.parse(parsed.plan.updatedAt) + days * DAY));
      }),
      { numRuns: 300 },
    );
    // Not vacuous: refusals now, findings as recorded, and some of those from rules run at the version's instant.
    expect(refused).toBeGreaterThan(0);
    expect(recordedFindings).toBeGreaterThan(0);
    expect(timedRecorded).toBeGreaterThan(0);
    const adult = readExample('adult-psychiatry-addiction.json');
    expect(() => judgeSendAndRecordedWith(adult, { rules: [{ code: 'no.such-rule', timed: true }] }, new Date(adult.updatedAt))).toThrow(/no\.such-rule/);
  });

  it('checkPlanWithBasis is checkPlan and sendBasisOf at once, for every example and generated plans, recorded when their consent was in force and long after', () => {
    let timedProblems = 0;
    let problems = 0;
    const check = (plan: SipPlan): void => {
      const both = checkPlanWithBasis(plan);
      const expectedProblems = checkPlan(plan);
      const expectedBasis = sendBasisOf(plan);
      expect(both.problems).toEqual(expectedProblems);
      expect(both.basis).toEqual(expectedBasis);
      // The basis is kept as text: the same text, not only an equal object.
      expect(JSON.stringify(both.basis)).toBe(JSON.stringify(expectedBasis));
      problems += expectedProblems.length;
      const timed = new Set(expectedBasis.rules.filter((rule) => 'timed' in rule).map((rule) => rule.code));
      timedProblems += expectedProblems.filter((problem) => timed.has(problem.code)).length;
    };
    for (const [, plan] of examples) {
      check(plan);
      for (const days of [-400, 45, 400, 730]) check({ ...plan, updatedAt: new Date(Date.parse(plan.updatedAt) + days * DAY).toISOString() });
    }
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 800 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        check(parsed.plan);
        check({ ...parsed.plan, updatedAt: new Date(Date.parse(parsed.plan.updatedAt) + days * DAY).toISOString() });
      }),
      { numRuns: 300 },
    );
    // Not vacuous: problems found, some by rules that read the instant (run a second time).
    expect(problems).toBeGreaterThan(0);
    expect(timedProblems).toBeGreaterThan(0);
  });
});
