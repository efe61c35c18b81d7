import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvePlan,
  checkPlan,
  closePlan,
  consentStateAt,
  parsePlanText,
  planStatus,
  processStep,
  revisePlan,
  SipRuleError,
  trafficLight,
  withdrawConsent,
  type SipPlan,
} from '../../src/sip/index.js';
import { validPlanArbitrary } from '../support/arbitraries.js';
import { parsePlan } from '../../src/sip/index.js';

function example(name: string): SipPlan {
  const result = parsePlanText(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

function codesOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof SipRuleError) return error.problems.map((problem) => problem.code);
    throw error;
  }
  return [];
}

const at = new Date('2026-03-20T10:00:00+01:00');

describe('traffic light and status', () => {
  it('is green with both principals, yellow with one, red with none', () => {
    const plan = example('adult-psychiatry-addiction.json');
    expect(trafficLight(plan)).toBe('green');
    expect(planStatus(plan)).toBe('active');
    expect(trafficLight({ ...plan, approvals: plan.approvals.slice(1) })).toBe('yellow');
    expect(planStatus({ ...plan, approvals: plan.approvals.slice(1) })).toBe('draft');
    expect(trafficLight({ ...plan, approvals: [] })).toBe('red');
  });
});

describe('process step', () => {
  it('follows the plan from initiation to closure', () => {
    const plan = example('adult-psychiatry-addiction.json');
    const at = new Date(plan.updatedAt);
    expect(processStep(plan, at)).toBe('planned');
    expect(processStep({ ...plan, meetings: plan.meetings.map((meeting) => ({ ...meeting, status: 'summoned' as const })) }, at)).toBe('summoned');
    expect(processStep({ ...plan, meetings: [] }, at)).toBe('consented');
    expect(processStep({ ...plan, meetings: [], consents: [] }, at)).toBe('initiated');
    expect(processStep(example('follow-up-revised-goals.json'), at)).toBe('followingUp');
    expect(processStep(example('closed-consent-withdrawn.json'), at)).toBe('closed');
  });
});

describe('revisePlan: an edit withdraws the edited part\'s approval', () => {
  const plan = example('adult-psychiatry-addiction.json');

  it('editing a region intervention withdraws only the region\'s approval', () => {
    const edited = structuredClone(plan);
    const first = edited.interventions[0];
    if (first) first.schedule = 'var tredje vecka';
    const next = revisePlan(plan, edited, { at });
    expect(next.version).toBe(plan.version + 1);
    expect(next.approvals.map((approval) => [approval.principal, approval.withdrawn?.reason])).toEqual([
      ['region-dalarna', 'editedAfterApproval'],
      ['falu-kommun', undefined],
    ]);
    expect(trafficLight(next)).toBe('yellow');
  });

  it('editing a shared part (a goal) withdraws every approval', () => {
    const edited = structuredClone(plan);
    const goal = edited.goals[0];
    if (goal) goal.description = 'Jag vill vara nykter och träna två gånger i veckan.';
    expect(trafficLight(revisePlan(plan, edited, { at }))).toBe('red');
  });

  it('a version with no edit to approved parts keeps the approvals', () => {
    const edited = { ...structuredClone(plan), notes: 'Stavfel rättat i anteckningen.' };
    expect(trafficLight(revisePlan(plan, edited, { at }))).toBe('green');
  });

  it('an edit cannot forge approvals or closure', () => {
    const edited = { ...structuredClone(plan), approvals: [], closure: { reason: 'goalsMet' as const, closedAt: at.toISOString(), closedBy: 'prof-anna-lind', informed: [] } };
    const next = revisePlan(plan, edited, { at });
    expect(next.approvals).toHaveLength(2);
    expect(next.closure).toBeUndefined();
  });

  it('on generated plans, editing one principal\'s intervention withdraws exactly that principal\'s approval', () => {
    fc.assert(
      fc.property(validPlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error('generated plan does not parse');
        const before = parsed.plan;
        const edited = structuredClone(before);
        const target = edited.interventions.find((intervention) => intervention.id === 'int-municipality');
        if (target) target.description = 'Ändrad insats.';
        const after = revisePlan(before, edited, { at: new Date(Date.parse(before.updatedAt) + 1000) });
        for (const approval of after.approvals) {
          expect(approval.withdrawn !== undefined).toBe(approval.principal === 'kommun');
        }
      }),
    );
  });
});

describe('approvePlan', () => {
  const plan = example('adult-psychiatry-addiction.json');
  const draft: SipPlan = { ...plan, approvals: [] };

  it('records the approval for the current version', () => {
    const approved = approvePlan(draft, { principal: 'falu-kommun', approvedBy: 'prof-lars-nyman', at });
    expect(approved.approvals).toEqual([
      { principal: 'falu-kommun', version: plan.version, approvedAt: at.toISOString(), approvedBy: 'prof-lars-nyman', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as string },
    ]);
    expect(trafficLight(approved)).toBe('yellow');
  });

  it('is refused while a required element is missing', () => {
    const withoutOverall: SipPlan = { ...draft };
    delete withoutOverall.overallResponsiblePrincipal;
    expect(codesOf(() => approvePlan(withoutOverall, { principal: 'falu-kommun', approvedBy: 'prof-lars-nyman', at }))).toEqual([
      'plan.missing-overall-responsible-principal',
    ]);
  });

  it('is refused while an intervention awaiting a decision does not say what happens meanwhile (a completeness rule)', () => {
    const pending: SipPlan = {
      ...draft,
      interventions: draft.interventions.map((intervention, i) =>
        i === 0 ? { ...intervention, status: 'awaitingDecision' as const, pendingDecision: { decidedBy: 'överläkaren' } } : intervention,
      ),
    };
    expect(new Set(codesOf(() => approvePlan(pending, { principal: 'falu-kommun', approvedBy: 'prof-lars-nyman', at })))).toEqual(
      new Set(['intervention.pending-decision-incomplete']),
    );
  });

  it('is refused when the approver acts for another principal', () => {
    expect(codesOf(() => approvePlan(draft, { principal: 'falu-kommun', approvedBy: 'prof-erik-berg', at }))).toEqual(['approval.approver-not-of-principal']);
  });
});

describe('withdrawConsent and closePlan', () => {
  const plan = example('adult-psychiatry-addiction.json');

  it('withdrawing the only consent closes the plan as revoked', () => {
    const closed = withdrawConsent(plan, { consentId: 'consent-1', withdrawnBy: 'individual', recordedBy: 'prof-anna-lind', at });
    expect(closed.consents.map((consent) => consentStateAt(consent, at))).toEqual(['withdrawn']);
    expect(closed.closure?.reason).toBe('consentWithdrawn');
    expect(planStatus(closed)).toBe('revoked');
    expect(checkPlan(closed).filter((problem) => problem.severity === 'error')).toEqual([]);
  });

  it('closure needs a reason', () => {
    expect(codesOf(() => closePlan(plan, { closedBy: 'prof-anna-lind', informed: ['individual'], at }))).toEqual(['closure.missing-reason']);
    expect(planStatus(closePlan(plan, { reason: 'goalsMet', closedBy: 'prof-anna-lind', informed: ['individual'], at }))).toBe('completed');
  });

  it('a closed plan is read-only', () => {
    const closed = closePlan(plan, { reason: 'needNoLongerExists', closedBy: 'prof-anna-lind', informed: [], at });
    expect(codesOf(() => revisePlan(closed, closed, { at }))).toEqual(['plan.closed-read-only']);
    expect(codesOf(() => approvePlan(closed, { principal: 'falu-kommun', approvedBy: 'prof-lars-nyman', at }))).toEqual(['plan.closed-read-only']);
    expect(codesOf(() => withdrawConsent(closed, { consentId: 'consent-1', withdrawnBy: 'individual', recordedBy: 'prof-anna-lind', at }))).toEqual([
      'plan.closed-read-only',
    ]);
    expect(codesOf(() => closePlan(closed, { reason: 'goalsMet', closedBy: 'prof-anna-lind', informed: [], at }))).toEqual(['plan.closed-read-only']);
  });
});

describe('consent in force, on the Stockholm calendar', () => {
  const [consent] = example('adult-psychiatry-addiction.json').consents;
  if (consent === undefined) throw new Error('the example has a consent');

  it('is in force through its last day in Stockholm, inclusive', () => {
    expect(consent.validUntil).toBe('2027-02-11');
    expect(consentStateAt(consent, new Date('2027-02-11T23:30:00+01:00'))).toBe('inForce');
    // 23:30 UTC on the 11th is already the 12th in Stockholm.
    expect(consentStateAt(consent, new Date('2027-02-11T23:30:00Z'))).toBe('expired');
    expect(consentStateAt(consent, new Date('2026-02-11T12:00:00+01:00'))).toBe('notYetValid');
  });
});
