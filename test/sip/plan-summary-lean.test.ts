/**
 * The lean judging summary (src/sip/plan-summary.ts: each party, consent, closure and the person with
 * only the members `mayAccess` and the instant's rules read) judged against the whole plan, and
 * against the summary as versions stored before it was made lean still carry it (their members
 * whole, test/support/former-judging-summary.ts), through the read's own entry points
 * (src/http/derived-view.ts): a version read with its plan and its derivation, a version read
 * without its plan (`keptJudging`, `keptSendRefusal`), and a version without a derivation, which is
 * judged on the whole plan. Same access decision (allowed or not, role, party, consent, principals,
 * the refusal's reason and message) for every caller, the same refusal to send (status, detail,
 * problems) and the same problems of the instant's rules, warnings included — over every example and generated plans with withdrawals, renewals, general consents,
 * closures, excluded parties and information classes, and professionals among the covered actors,
 * at instants either side of the consent's end, its withdrawal and the follow-up dates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayAccess, type AccessDecision } from '../../src/http/auth/access.js';
import { derivedVersion, judgingPlanOf, keptJudging, keptSendRefusal, storedSendRefusal } from '../../src/http/derived-view.js';
import type { HttpError } from '../../src/http/problem.js';
import { judgeSendWith, parsePlan, sendBasisOf, type SendBasis, type SipPlan } from '../../src/sip/index.js';
import { judgingSummaryOf } from '../../src/sip/plan-summary.js';
import type { StoredDerivation, StoredPlan, StoredVersionHead } from '../../src/store/plan-store.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { callersOf, withPartyHsaIds } from '../support/plan-parties.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';
import { formerJudgingSummaryOf } from '../support/former-judging-summary.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Instants around everything the judgements turn on: the version, each consent's first and last day and withdrawal, each follow-up, the closure. */
function instantsOf(plan: SipPlan): Date[] {
  const updated = Date.parse(plan.updatedAt);
  const around = (time: number): number[] => [time - HOUR, time + HOUR];
  const times = [
    updated,
    updated - 30 * DAY,
    updated + 45 * DAY,
    updated + 400 * DAY,
    ...plan.consents.flatMap((consent) => [
      // Midnight in Stockholm begins and ends a consent's days (UTC+1 or +2): an hour either side of 23:00 and 22:00 UTC.
      ...around(Date.parse(`${consent.givenAt}T00:00:00+01:00`)),
      ...around(Date.parse(`${consent.validUntil}T23:59:59+01:00`)),
      ...around(Date.parse(`${consent.validUntil}T23:59:59+02:00`)),
      ...(consent.withdrawal === undefined ? [] : [Date.parse(consent.withdrawal.withdrawnAt) - 1, Date.parse(consent.withdrawal.withdrawnAt)]),
    ]),
    ...plan.followUps.flatMap((followUp) => around(Date.parse(`${followUp.date}T23:59:59+01:00`))),
    ...(plan.closure === undefined ? [] : around(Date.parse(plan.closure.closedAt))),
  ];
  return [...new Set(times)].map((time) => new Date(time));
}

/** A refusal as an answer carries it, or undefined when the version may be sent. */
const refusalFacts = (refusal: HttpError | undefined) => (refusal === undefined ? undefined : { status: refusal.status, title: refusal.title, detail: refusal.detail, problems: refusal.problems });

/** What the store hands a read for a version written with this derivation, and for one written without. */
function storedVersions(plan: SipPlan, summary: string | undefined): { withPlan: StoredPlan; head: StoredVersionHead } {
  const derived: StoredDerivation = { basis: JSON.stringify(sendBasisOf(plan)), ...(summary === undefined ? {} : { summary }), texts: [] };
  const common = { version: plan.version, recordedAt: plan.updatedAt, recordedBy: 'system' };
  return { withPlan: { plan, ...common, derived }, head: { planId: plan.id, ...common, derived } };
}

interface Tally {
  readonly access: Set<string>;
  readonly codes: Set<string>;
}

/**
 * Every way a read judges the version — on the whole plan, on the lean summary (with and without its
 * plan) and on the former summary (with and without its plan) — gives the same access decision for
 * every caller and the same refusal to send at every instant.
 */
function expectSameJudgements(plan: SipPlan, instants: readonly Date[], tally: Tally): void {
  const whole: StoredPlan = { plan, version: plan.version, recordedAt: plan.updatedAt, recordedBy: 'system' };
  const lean = storedVersions(plan, JSON.stringify(judgingSummaryOf(plan)));
  const former = storedVersions(plan, JSON.stringify(formerJudgingSummaryOf(plan)));
  expect(judgingPlanOf(whole)).toBe(plan);
  const leanKept = keptJudging(lean.head);
  const formerKept = keptJudging(former.head);
  if (leanKept === undefined || formerKept === undefined) throw new Error('a summary that does not serve the judging');
  // What the read itself takes from the judged plan: the plan's id and the person's identifier.
  for (const judged of [judgingPlanOf(lean.withPlan), leanKept.judged, judgingPlanOf(former.withPlan), formerKept.judged]) {
    expect(judged).not.toBe(plan);
    expect(judged.id).toBe(plan.id);
    expect(judged.individual.identifier).toEqual(plan.individual.identifier);
    expect(judged.initiatedAt).toBe(plan.initiatedAt);
    expect(judged.closure?.closedAt).toBe(plan.closure?.closedAt);
  }
  for (const at of instants) {
    for (const caller of callersOf(plan)) {
      const decision = mayAccess(plan, caller, at);
      const judgedBy = (judged: SipPlan): AccessDecision => mayAccess(judged, caller, at);
      expect(judgedBy(judgingPlanOf(lean.withPlan))).toEqual(decision);
      expect(judgedBy(leanKept.judged)).toEqual(decision);
      expect(judgedBy(judgingPlanOf(former.withPlan))).toEqual(decision);
      expect(judgedBy(formerKept.judged)).toEqual(decision);
      tally.access.add(decision.allowed ? `allowed:${decision.role}` : decision.reason);
    }
    const refusal = refusalFacts(storedSendRefusal(whole, at));
    expect(refusalFacts(storedSendRefusal(lean.withPlan, at))).toEqual(refusal);
    expect(refusalFacts(keptSendRefusal(leanKept, at))).toEqual(refusal);
    expect(refusalFacts(storedSendRefusal(former.withPlan, at))).toEqual(refusal);
    expect(refusalFacts(keptSendRefusal(formerKept, at))).toEqual(refusal);
    // Every problem the instant's rules find, warnings (an overdue follow-up) too, not only a refusal's errors.
    const basis = JSON.parse(JSON.stringify(sendBasisOf(plan))) as SendBasis;
    const problems = judgeSendWith(plan, basis, at);
    for (const judged of [leanKept.judged, formerKept.judged]) expect(judgeSendWith(judged, basis, at)).toEqual(problems);
    for (const problem of problems) tally.codes.add(problem.code);
  }
}

const CLASSES = ['mentalHealth', 'substanceUse', 'familySituation', 'criminalRecord'] as const;

/**
 * A generated plan made to meet what the judgements turn on, which generated plans alone do not:
 * HSA-ids on some organisations (others matched by organisationsnummer alone), its consent covering
 * and excluding parties and professionals drawn at random, excluding information classes, withdrawn
 * (or not) on a day drawn, renewed (or not) by a second consent, beside a general consent for another
 * plan; closed or not; its follow-up held or not.
 */
const judgedPlanArbitrary = fc
  .record({
    json: mappablePlanArbitrary,
    hsa: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    covered: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    excluded: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    coveredProfessional: fc.option(fc.nat(), { nil: undefined }),
    principalByNumber: fc.boolean(),
    excludedInformation: fc.subarray([...CLASSES]),
    withdrawnAfterDays: fc.option(fc.integer({ min: -5, max: 400 }), { nil: undefined }),
    renewal: fc.option(fc.record({ startsBeforeEnd: fc.integer({ min: -3, max: 10 }), covered: fc.boolean() }), { nil: undefined }),
    general: fc.boolean(),
    closedAfterDays: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
    followUpHeld: fc.boolean(),
  })
  .map(({ json, hsa, covered, excluded, coveredProfessional, principalByNumber, excludedInformation, withdrawnAfterDays, renewal, general, closedAfterDays, followUpHeld }) => {
    const parsed = parsePlan(json);
    if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
    const plan = parsed.plan;
    const updated = Date.parse(plan.updatedAt);
    const { principals, otherActors, parties } = withPartyHsaIds(plan, hsa, principalByNumber);
    const professional = coveredProfessional === undefined ? undefined : plan.professionals[coveredProfessional % plan.professionals.length]?.id;
    const coveredActors = [...parties.filter((_, i) => covered[i % covered.length] === true), ...(professional === undefined ? [] : [professional])];
    const excludedParties = parties.filter((_, i) => excluded[i % excluded.length] === true && covered[i % covered.length] !== true);
    const [first, ...others] = plan.consents;
    if (first === undefined) throw new Error('a generated plan without a consent');
    const withdrawnAt = withdrawnAfterDays === undefined ? undefined : new Date(updated + withdrawnAfterDays * DAY + 7 * HOUR).toISOString();
    const consents = [
      {
        ...first,
        coveredActors,
        excludedParties,
        excludedInformation: excludedInformation.map((informationClass) => ({ class: informationClass, description: `Uppgifter om ${informationClass}` })),
        ...(withdrawnAt === undefined ? {} : { withdrawal: { withdrawnAt, withdrawnBy: 'individual', note: 'Vill inte längre.' } }),
      },
      ...others,
      ...(renewal === undefined
        ? []
        : [
            {
              id: 'consent-renewed',
              planId: plan.id,
              givers: ['individual'],
              form: 'written',
              givenAt: new Date(Date.parse(`${first.validUntil}T12:00:00Z`) - renewal.startsBeforeEnd * DAY).toISOString().slice(0, 10),
              validUntil: new Date(Date.parse(`${first.validUntil}T12:00:00Z`) + 200 * DAY).toISOString().slice(0, 10),
              coveredActors: renewal.covered ? coveredActors : parties.slice(0, 1),
              excludedParties: [],
            },
          ]),
      ...(general ? [{ id: 'consent-general', planId: 'another-plan', givers: ['individual'], form: 'written', givenAt: first.givenAt, validUntil: first.validUntil, coveredActors: parties, excludedParties: [] }] : []),
    ];
    const closure = closedAfterDays === undefined ? undefined : { reason: 'other', reasonText: 'Avslutad.', closedAt: new Date(updated + closedAfterDays * DAY).toISOString(), closedBy: plan.initiatedBy, informed: ['individual'] };
    const meeting = plan.meetings[0]?.id;
    const followUps = plan.followUps.map((followUp) => (followUpHeld && meeting !== undefined ? { ...followUp, heldAt: meeting } : followUp));
    const changed = parsePlan({ ...plan, principals, otherActors, consents, followUps, ...(closure === undefined ? {} : { closure }) });
    if (!changed.ok) throw new Error(`the changed plan does not parse: ${JSON.stringify(changed.problems)}`);
    return changed.plan;
  });

describe('the lean judging summary', () => {
  const examples: [string, SipPlan][] = [...exampleFiles.map((file): [string, SipPlan] => [file, readExample(file)]), ['leaky protected plan', leakyProtectedPlan()]];

  it('is what the writer keeps: the members the judgements read, none of the names, contacts or consent documentation', () => {
    const elderly = readExample('elderly-discharge-multimorbidity.json');
    const kept = derivedVersion(elderly).summary;
    if (kept === undefined) throw new Error('no judging summary kept');
    expect(JSON.parse(kept)).toEqual(judgingSummaryOf(elderly));
    // Read by a person: the unit's and professional's names, the person's name and address, the consent's documentation are gone.
    for (const dropped of ['Vårdcentralen Ekholmen', 'Annika', 'Gunnar', 'Ekholmsvägen', 'Cosmic', 'documentedBy', 'givers', 'contact']) expect(kept).not.toContain(dropped);
    // What the judgements read is there: a principal's name (a refusal's message), HSA-ids, the consent's dates and parties.
    for (const read of ['Region Östergötland', 'SE2321000040-M011', 'SE2321000040-P5512', '"organization":"unit-bistand"', '"validUntil":"2027-01-21"', '"coveredActors":["region-ostergotland","linkopings-kommun"]']) {
      expect(kept).toContain(read);
    }
    for (const [, plan] of examples) expect(JSON.stringify(judgingSummaryOf(plan)).length).toBeLessThan(JSON.stringify(formerJudgingSummaryOf(plan)).length * 0.55);
  });

  it('keeps a withdrawal’s instant and a closure’s end, nothing else of them', () => {
    const closed = readExample('closed-consent-withdrawn.json');
    const summary = judgingSummaryOf(closed);
    const withdrawn = closed.consents.find((consent) => consent.withdrawal !== undefined);
    if (withdrawn?.withdrawal === undefined || closed.closure === undefined) throw new Error('the example has no withdrawal or closure');
    expect(summary.consents.find((consent) => consent.id === withdrawn.id)?.withdrawal).toEqual({ withdrawnAt: withdrawn.withdrawal.withdrawnAt });
    expect(summary.closure).toEqual({ closedAt: closed.closure.closedAt });
  });

  it('judges every example as the whole plan and the former summary do, for every caller, at every instant that matters', () => {
    const tally: Tally = { access: new Set(), codes: new Set() };
    for (const [, plan] of examples) expectSameJudgements(plan, instantsOf(plan), tally);
    expect([...tally.access]).toEqual(expect.arrayContaining(['allowed:principal', 'allowed:unit', 'allowed:otherActor', 'notAParty', 'noConsentInForce']));
    expect([...tally.codes]).toEqual(expect.arrayContaining(['consent.expired', 'consent.withdrawn']));
  });

  it('judges generated plans with withdrawals, renewals, closures and exclusions as the whole plan and the former summary do', () => {
    const tally: Tally = { access: new Set(), codes: new Set() };
    fc.assert(
      fc.property(judgedPlanArbitrary, (plan) => {
        expectSameJudgements(plan, instantsOf(plan), tally);
      }),
      { numRuns: 150 },
    );
    // The comparison met every kind of decision and every rule the summary was made for.
    expect([...tally.access]).toEqual(expect.arrayContaining(['allowed:principal', 'allowed:unit', 'allowed:otherActor', 'notAParty', 'excluded', 'notCovered', 'noConsentInForce']));
    expect([...tally.codes]).toEqual(expect.arrayContaining(['consent.missing', 'consent.expired', 'consent.withdrawn', 'consent.principal-not-covered', 'follow-up.overdue']));
  });
});
