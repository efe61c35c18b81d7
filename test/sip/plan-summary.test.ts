/**
 * The judging summary (src/sip/plan-summary.ts) kept beside a version's send basis: `mayAccess`,
 * `judgeSendWith` and `judgeSendAndRecordedWith` (a SIP read's send judgement and the version's own
 * findings, its warnings) on the summary, as the store hands it back (a JSON round trip), give exactly what
 * they give on the whole plan — the same decision, the same refusal reason and message, the same
 * problems — over every example and generated plans with HSA-ids, coverage and exclusions drawn at
 * random, at instants from a year before the version to two years after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayAccess } from '../../src/http/auth/access.js';
import { judgingPlanOf } from '../../src/http/derived-view.js';
import { judgeSendAndRecordedWith, judgeSendWith, parsePlan, sendBasisOf, type SendBasis, type SipPlan } from '../../src/sip/index.js';
import { judgingSummaryOf, SUMMARY_RULES } from '../../src/sip/plan-summary.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { callersOf, withPartyHsaIds } from '../support/plan-parties.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

const DAY = 86_400_000;
const INSTANTS = [-365, -30, -1, 0, 1, 45, 120, 200, 300, 364, 366, 400, 730];

/** The summary as a read gets it: written to JSON text by the writer, parsed by the read. */
const kept = (plan: SipPlan): SipPlan => JSON.parse(JSON.stringify(judgingSummaryOf(plan))) as SipPlan;

interface Tally {
  allowed: number;
  refused: Set<string>;
  sendRefused: number;
  /** Judgements whose version, as recorded, had findings of its own (a SIP read's warnings). */
  recordedFound: number;
}

function expectSameJudgements(plan: SipPlan, at: Date, tally: Tally): void {
  const summary = kept(plan);
  for (const caller of callersOf(plan)) {
    const whole = mayAccess(plan, caller, at);
    expect(mayAccess(summary, caller, at)).toEqual(whole);
    if (whole.allowed) tally.allowed += 1;
    else tally.refused.add(whole.reason);
  }
  const basis = JSON.parse(JSON.stringify(sendBasisOf(plan))) as SendBasis;
  const problems = judgeSendWith(plan, basis, at);
  expect(judgeSendWith(summary, basis, at)).toEqual(problems);
  if (problems.some((problem) => problem.severity === 'error')) tally.sendRefused += 1;
  // A SIP read's judgement: the send at `at` and the version's own findings at its recording, its warnings.
  const both = judgeSendAndRecordedWith(plan, basis, at);
  expect(judgeSendAndRecordedWith(summary, basis, at)).toEqual(both);
  if (both.recorded.length > 0) tally.recordedFound += 1;
}

/** The codes a basis marks as read at the instant. */
const timedCodes = (plan: SipPlan): string[] => sendBasisOf(plan).rules.flatMap((rule) => ('timed' in rule ? [rule.code] : []));

/**
 * A generated plan with HSA-ids on some organisations (others matched by organisationsnummer alone),
 * and its consent covering and excluding parties drawn at random: generated plans have none of these.
 */
const withPartiesArbitrary = fc
  .record({
    json: mappablePlanArbitrary,
    hsa: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    covered: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    excluded: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    principalByNumber: fc.boolean(),
    days: fc.constantFrom(...INSTANTS),
  })
  .map(({ json, hsa, covered, excluded, principalByNumber, days }) => {
    const parsed = parsePlan(json);
    if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
    const plan = parsed.plan;
    const { principals, otherActors, parties } = withPartyHsaIds(plan, hsa, principalByNumber);
    const consents = plan.consents.map((consent) => ({
      ...consent,
      coveredActors: parties.filter((_, i) => covered[i % covered.length] === true),
      excludedParties: parties.filter((_, i) => excluded[i % excluded.length] === true && covered[i % covered.length] !== true),
    }));
    const changed = parsePlan({ ...plan, principals, otherActors, consents });
    if (!changed.ok) throw new Error(`plan with parties does not parse: ${JSON.stringify(changed.problems)}`);
    return { plan: changed.plan, at: new Date(Date.parse(plan.updatedAt) + days * DAY) };
  });

describe('judging summary', () => {
  const examples: [string, SipPlan][] = [...exampleFiles.map((file): [string, SipPlan] => [file, readExample(file)]), ['leaky protected plan', leakyProtectedPlan()]];

  it('gives every example the same access decisions and send judgement as the whole plan, at every instant', () => {
    const tally: Tally = { allowed: 0, refused: new Set(), sendRefused: 0, recordedFound: 0 };
    for (const [, plan] of examples) {
      for (const days of INSTANTS) expectSameJudgements(plan, new Date(Date.parse(plan.updatedAt) + days * DAY), tally);
    }
    // The comparison meets allowed callers, refusals of several kinds, and refused sends.
    expect(tally.allowed).toBeGreaterThan(examples.length);
    expect([...tally.refused]).toEqual(expect.arrayContaining(['notAParty', 'noConsentInForce']));
    expect(tally.sendRefused).toBeGreaterThan(examples.length);
    expect(tally.recordedFound).toBeGreaterThan(0);
  });

  it('gives generated plans with HSA-ids, coverage and exclusions the same access decisions and send judgement', () => {
    const tally: Tally = { allowed: 0, refused: new Set(), sendRefused: 0, recordedFound: 0 };
    fc.assert(
      fc.property(withPartiesArbitrary, ({ plan, at }) => {
        expectSameJudgements(plan, at, tally);
      }),
      { numRuns: 300 },
    );
    expect(tally.allowed).toBeGreaterThan(0);
    expect([...tally.refused]).toEqual(expect.arrayContaining(['notAParty', 'excluded', 'notCovered', 'noConsentInForce']));
    expect(tally.sendRefused).toBeGreaterThan(0);
    expect(tally.recordedFound).toBeGreaterThan(0);
  });

  it('carries every rule a basis marks as read at the instant, for every example and generated plan', () => {
    const timed = new Set<string>();
    for (const [, plan] of examples) for (const code of timedCodes(plan)) timed.add(code);
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error('generated plan does not parse');
        for (const code of timedCodes(parsed.plan)) timed.add(code);
      }),
      { numRuns: 200 },
    );
    expect([...timed].filter((code) => !SUMMARY_RULES.has(code))).toEqual([]);
    expect(timed.size).toBeGreaterThanOrEqual(4);
  });

  it('is what a read judges only when it carries every rule its basis marks timed; else, or without one, the whole plan is', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const summary = JSON.stringify(judgingSummaryOf(adult));
    const basis = JSON.stringify(sendBasisOf(adult));
    const stored = (derived?: { basis: string; summary?: string }) => ({ plan: adult, version: 1, recordedAt: adult.updatedAt, recordedBy: 'system', ...(derived === undefined ? {} : { derived: { ...derived, texts: [] } }) });
    expect(judgingPlanOf(stored({ basis, summary }))).toEqual(judgingSummaryOf(adult));
    expect(judgingPlanOf(stored({ basis, summary })).goals).toEqual([]);
    expect(judgingPlanOf(stored({ basis }))).toBe(adult);
    expect(judgingPlanOf(stored())).toBe(adult);
    // A rule read at the instant that the summary was not made for (one added later): the whole plan.
    const unknownTimed = JSON.stringify({ rules: [{ code: 'summons.without-consent', timed: true }] });
    expect(judgingPlanOf(stored({ basis: unknownTimed, summary }))).toBe(adult);
  });

  it('leaves out the parts of the plan neither judgement reads, so it is smaller than the plan', () => {
    const adult = readExample('adult-psychiatry-addiction.json');
    const summary = judgingSummaryOf(adult);
    expect(summary.goals).toEqual([]);
    expect(summary.interventions).toEqual([]);
    expect(summary.meetings).toEqual([]);
    // Each consent with the facts the judgements read, in order (test/sip/plan-summary-lean.test.ts holds the rest).
    expect(summary.consents.map((consent) => consent.id)).toEqual(adult.consents.map((consent) => consent.id));
    expect(summary.consents.map((consent) => [consent.planId, consent.givenAt, consent.validUntil, consent.coveredActors, consent.excludedParties])).toEqual(
      adult.consents.map((consent) => [consent.planId, consent.givenAt, consent.validUntil, consent.coveredActors, consent.excludedParties]),
    );
    expect(summary.followUps).toEqual(adult.followUps);
    expect(JSON.stringify(summary).length).toBeLessThan(JSON.stringify(adult).length / 2);
  });
});
