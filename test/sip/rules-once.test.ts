/**
 * `judgeSendAndRecorded` (src/sip/rules/index.ts) is `judgeSend(plan, at)` and `checkPlan(plan)`
 * computed together, with each rule that does not read the instant run once: held equal to the two
 * calls over every example and generated plans, at instants before, during and long after their
 * consents (so the consent rules and follow-up.overdue find different things at the two instants).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPlan, judgeSend, judgeSendAndRecorded, parsePlan, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** Whether the two instants judged the plan differently, so the case tells something. */
function expectSameAsTwoCalls(plan: SipPlan, at: Date): boolean {
  const both = judgeSendAndRecorded(plan, at);
  const send = judgeSend(plan, at);
  const recorded = checkPlan(plan);
  expect(both.send).toEqual(send);
  expect(both.recorded).toEqual(recorded);
  return JSON.stringify(send) !== JSON.stringify(recorded);
}

describe('judgeSendAndRecorded', () => {
  const examples: [string, SipPlan][] = [...exampleFiles.map((file): [string, SipPlan] => [file, readExample(file)]), ['leaky protected plan', leakyProtectedPlan()]];

  it('equals judgeSend and checkPlan for every example, from a year before its version to two years after', () => {
    let differing = 0;
    for (const [, plan] of examples) {
      const recordedAt = Date.parse(plan.updatedAt);
      for (const days of [-365, -30, -1, 0, 1, 45, 120, 200, 300, 400, 730]) {
        if (expectSameAsTwoCalls(plan, new Date(recordedAt + days * DAY))) differing += 1;
      }
    }
    // The consents of the examples last at most a year: a send two years on is refused.
    expect(differing).toBeGreaterThan(examples.length);
  });

  it('finds consent.expired only when sent, for the adult example two years after it was recorded', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const { send, recorded } = judgeSendAndRecorded(adult, new Date(Date.parse(adult.updatedAt) + 730 * DAY));
    expect(send.map((problem) => problem.code)).toContain('consent.expired');
    expect(recorded.map((problem) => problem.code)).not.toContain('consent.expired');
  });

  it('equals judgeSend and checkPlan over generated plans at any instant', () => {
    let differing = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 800 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        if (expectSameAsTwoCalls(parsed.plan, new Date(Date.parse(parsed.plan.updatedAt) + days * DAY))) differing += 1;
      }),
      { numRuns: 300 },
    );
    expect(differing).toBeGreaterThan(0);
  });
});
