/**
 * The three kinds of rule (docs/rules.md), shown on one plan at each stage of the SIP process:
 * integrity rules are errors at every stage, completeness rules are errors only once a principal has
 * approved, and history rules are warnings that never stop the plan from being sent.
 */
import { describe, expect, it } from 'vitest';
import { checkPlan, judgeSend, RULES, type Problem, type SipPlan } from '../../src/sip/index.js';
import { readExample } from '../support/examples.js';

/** A fixed moment of sending while the adult example's consent is in force (2026-02-12 – 2027-02-11). */
const SENT = new Date('2026-04-01T10:00:00+02:00');

const summary = (problems: readonly Problem[]): string[][] => problems.map((problem) => [problem.code, problem.severity]);
const errors = (problems: readonly Problem[]): string[] => problems.filter((problem) => problem.severity === 'error').map((problem) => problem.code);

/** The adult example with no goals stated yet, and the psychiatrist's absence without a substitute. */
function incompleteWithPastAbsence(approved: boolean): SipPlan {
  const plan = structuredClone(readExample('adult-psychiatry-addiction.json'));
  plan.goals = [];
  plan.interventions = plan.interventions.map((intervention) => ({ ...intervention, goals: [] }));
  const declined = plan.meetings[0]?.summons?.invitees.find((invitee) => invitee.response === 'declined');
  if (declined === undefined) throw new Error('the example has a declined invitee');
  delete declined.substitute;
  // Approved as the plan now stands (current version, no digest), or not approved at all.
  plan.approvals = approved
    ? plan.approvals.map((approval) => {
        const current = { ...approval, version: plan.version };
        delete current.digest;
        return current;
      })
    : [];
  return plan;
}

describe('every rule has a kind, and its severity follows from it', () => {
  it.each(RULES.map((rule) => [rule.code, rule] as const))('%s', (_code, rule) => {
    expect(['integrity', 'completeness', 'history']).toContain(rule.kind);
    expect(rule.severity).toBe(rule.kind === 'history' ? 'warning' : 'error');
    if (rule.reportDeviation === true) expect(rule.kind).toBe('history');
  });
});

describe('a plan under preparation (no approval yet)', () => {
  const plan = incompleteWithPastAbsence(false);

  it('is not held to completeness: no goal yet is no error', () => {
    expect(summary(checkPlan(plan))).toEqual([['summons.declined-without-substitute', 'warning']]);
  });

  it('may be sent between the principals who build it', () => {
    expect(errors(judgeSend(plan, SENT))).toEqual([]);
  });

  it('is still held to integrity: a reference to nothing is an error at this stage too', () => {
    const broken = structuredClone(plan);
    broken.coordinator = 'prof-nobody';
    expect(errors(checkPlan(broken))).toEqual(['plan.unresolved-reference']);
    expect(errors(judgeSend(broken, SENT))).toEqual(['plan.unresolved-reference']);
  });
});

describe('an approved plan', () => {
  const plan = incompleteWithPastAbsence(true);

  it('is held to completeness: the missing goals are an error once a principal has approved', () => {
    expect(summary(checkPlan(plan))).toEqual([
      ['summons.declined-without-substitute', 'warning'],
      ['plan.missing-goals', 'error'],
    ]);
    expect(errors(judgeSend(plan, SENT))).toEqual(['plan.missing-goals']);
  });

  it('is never stopped by a fact of the past: complete, it is sent with the warning and its deviation advice', () => {
    const complete = structuredClone(plan);
    complete.goals = readExample('adult-psychiatry-addiction.json').goals;
    const problems = judgeSend(complete, SENT);
    expect(summary(problems)).toEqual([['summons.declined-without-substitute', 'warning']]);
    expect(problems[0]?.reportDeviation).toBe(true);
    expect(problems[0]?.kind).toBe('history');
    expect(problems[0]?.message).toContain('report it as a deviation (avvikelse)');
  });
});

describe('a closed plan', () => {
  const plan = readExample('closed-consent-withdrawn.json');

  it('as a record: no completeness rule applies, and a closure nobody heard of is a warning', () => {
    const unannounced = structuredClone(plan);
    if (unannounced.closure) unannounced.closure.informed = [];
    expect(summary(checkPlan(unannounced))).toEqual([
      ['closure.informed-missing', 'warning'],
      ['closure.informed-missing', 'warning'],
      ['closure.informed-missing', 'warning'],
    ]);
  });

  it('as a send: the withdrawn consent refuses it, whatever its state', () => {
    expect(errors(judgeSend(plan, SENT))).toEqual(['consent.withdrawn']);
    expect(errors(checkPlan(plan))).toEqual([]);
  });
});

describe('an open plan whose follow-up date has passed', () => {
  const plan = readExample('adult-psychiatry-addiction.json');

  it('is reported with a warning when judged after the date, and still sent', () => {
    const at = new Date('2026-06-02T09:00:00+02:00');
    const problems = judgeSend(plan, at);
    expect(summary(problems)).toEqual([['follow-up.overdue', 'warning']]);
    expect(problems[0]?.pointer).toBe('/followUps/0/date');
    expect(checkPlan(plan)).toEqual([]);
  });
});
