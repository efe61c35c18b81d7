/**
 * The meeting, its summons and the answers, and a new consent, as transitions of the plan
 * (src/sip/meeting-transitions.ts). The adult example: consent 2026-02-12 – 2027-02-11 covering both
 * principals and Försäkringskassan (`fk`), excluding the health centre `unit-vc-britsarvet`;
 * `prof-erik-berg` acts for the region, `prof-karin-ahl` for Försäkringskassan.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  addMeeting,
  answerSummons,
  checkPlan,
  parsePlanText,
  recordConsent,
  recordMeetingOutcome,
  SipRuleError,
  summonMeeting,
  withdrawConsent,
  type Problem,
  type SipPlan,
  type SummonsToSend,
} from '../../src/sip/index.js';

function adult(): SipPlan {
  const result = parsePlanText(readFileSync(new URL('../../examples/adult-psychiatry-addiction.json', import.meta.url), 'utf8'));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/** The problems a refused change names; fails when the change is not refused. */
function refusedProblems(action: () => unknown): readonly Problem[] {
  try {
    action();
  } catch (error) {
    if (error instanceof SipRuleError) return error.problems;
    throw error;
  }
  throw new Error('the change was not refused');
}

/** The codes, severities and pointers a refused change names. */
const refusal = (action: () => unknown): [string, string, string][] => refusedProblems(action).map((problem) => [problem.code, problem.severity, problem.pointer]);

const planned = new Date('2026-04-01T10:00:00+02:00');
const sent = new Date('2026-04-02T09:00:00+02:00');
const summons: SummonsToSend = {
  sentBy: 'prof-anna-lind',
  start: '2026-04-15T13:00:00+02:00',
  end: '2026-04-15T14:30:00+02:00',
  location: 'Psykiatrisk öppenvård Falun',
  agenda: 'Uppföljning.',
  invitees: [
    { party: 'individual', required: true },
    { party: 'prof-erik-berg', required: true },
    { party: 'prof-karin-ahl', required: false },
  ],
  contact: { name: 'Anna Lind', email: 'anna.lind@example.se' },
};

function summoned(): SipPlan {
  const withMeeting = addMeeting(adult(), { id: 'meeting-2', kind: 'followUp' }, { at: planned });
  return summonMeeting(withMeeting, 'meeting-2', summons, { at: sent });
}

describe('meetings and summonses', () => {
  it('adds a planned meeting as the next version, leaving the plan it started from untouched', () => {
    const before = adult();
    const copy = structuredClone(before);
    const next = addMeeting(before, { id: 'meeting-2', kind: 'followUp', meetingLeader: 'prof-anna-lind' }, { at: planned });
    expect(before).toEqual(copy);
    expect(next.version).toBe(before.version + 1);
    expect(next.updatedAt).toBe('2026-04-01T08:00:00.000Z');
    expect(next.meetings[1]).toEqual({ id: 'meeting-2', kind: 'followUp', status: 'planned', meetingLeader: 'prof-anna-lind' });
    expect(checkPlan(next)).toEqual([]);
  });

  it('sends a summons: summoned, sent at the moment recorded, nobody has answered', () => {
    const next = summoned();
    expect(next.meetings[1]?.status).toBe('summoned');
    expect(next.meetings[1]?.summons?.sentAt).toBe('2026-04-02T07:00:00.000Z');
    expect(next.meetings[1]?.summons?.invitees.map((invitee) => invitee.response)).toEqual(['noResponse', 'noResponse', 'noResponse']);
    expect(checkPlan(next)).toEqual([]);
  });

  it('refuses, as errors, the summons rules that would only warn about a summons of the past', () => {
    const withMeeting = addMeeting(adult(), { id: 'meeting-2', kind: 'followUp' }, { at: planned });
    // The same summons recorded as sent in the past is only a warning (a history rule) …
    const past: SipPlan = {
      ...withMeeting,
      meetings: [
        ...adult().meetings,
        { id: 'meeting-2', kind: 'followUp', status: 'summoned', summons: { ...summons, sentAt: '2026-04-01T09:00:00+02:00', invitees: [{ party: 'unit-vc-britsarvet', required: true, response: 'noResponse' }] } },
      ],
    };
    expect(checkPlan(past).map((problem) => [problem.code, problem.severity])).toEqual([['summons.invitee-excluded', 'warning']]);
    // … and refuses the summons sent now.
    expect(refusal(() => summonMeeting(withMeeting, 'meeting-2', { ...summons, invitees: [{ party: 'unit-vc-britsarvet', required: true }] }, { at: sent }))).toEqual([
      ['summons.invitee-excluded', 'error', '/meetings/1/summons/invitees/0/party'],
    ]);
    // Nothing happened, so there is no deviation to report: the refusal says what is wrong and no more.
    const [excluded] = refusedProblems(() => summonMeeting(withMeeting, 'meeting-2', { ...summons, invitees: [{ party: 'unit-vc-britsarvet', required: true }] }, { at: sent }));
    expect(excluded).not.toHaveProperty('reportDeviation');
    expect(excluded?.message).toBe('"unit-vc-britsarvet" is summoned but the person\'s consent excludes it');
    const { location: _location, ...nowhere } = summons;
    expect(refusal(() => summonMeeting(withMeeting, 'meeting-2', nowhere, { at: sent }))).toEqual([['summons.incomplete', 'error', '/meetings/1/summons']]);
  });

  it('refuses a summons when no consent is in force', () => {
    const withdrawn = withdrawConsent(adult(), { consentId: 'consent-1', withdrawnBy: 'individual', recordedBy: 'prof-anna-lind', at: planned });
    // The plan closed with the withdrawal, so it is read-only before any summons rule is asked.
    expect(refusal(() => addMeeting(withdrawn, { id: 'meeting-2', kind: 'followUp' }, { at: sent }))).toEqual([['plan.closed-read-only', 'error', '/closure']]);
    const expired = addMeeting(adult(), { id: 'meeting-2', kind: 'followUp' }, { at: planned });
    expect(refusal(() => summonMeeting(expired, 'meeting-2', { ...summons, start: '2027-03-01T13:00:00+01:00', end: '2027-03-01T14:00:00+01:00' }, { at: new Date('2027-02-20T09:00:00+01:00') }))).toEqual([
      ['summons.without-consent', 'error', '/meetings/1/summons/sentAt'],
    ]);
  });

  it('a new summons for a summoned meeting asks everyone again', () => {
    const answered = answerSummons(summoned(), 'meeting-2', 'individual', { response: 'accepted' }, { at: sent });
    const again = summonMeeting(answered, 'meeting-2', { ...summons, start: '2026-04-16T13:00:00+02:00', end: '2026-04-16T14:00:00+02:00' }, { at: new Date('2026-04-03T09:00:00+02:00') });
    expect(again.meetings[1]?.summons?.invitees[0]).toEqual({ party: 'individual', required: true, response: 'noResponse' });
    expect(again.meetings[1]?.summons?.start).toBe('2026-04-16T13:00:00+02:00');
  });
});

describe('answers', () => {
  const answeredAt = new Date('2026-04-03T09:00:00+02:00');

  it("records a principal's decline without a substitute, which warns", () => {
    const next = answerSummons(summoned(), 'meeting-2', 'prof-erik-berg', { response: 'declined' }, { at: answeredAt });
    expect(next.meetings[1]?.summons?.invitees[1]).toEqual({ party: 'prof-erik-berg', required: true, response: 'declined', respondedAt: '2026-04-03T07:00:00.000Z' });
    expect(checkPlan(next).map((problem) => [problem.code, problem.severity, problem.pointer])).toEqual([
      ['summons.declined-without-substitute', 'warning', '/meetings/1/summons/invitees/1'],
    ]);
  });

  it('an other actor may decline without a substitute: no warning', () => {
    const next = answerSummons(summoned(), 'meeting-2', 'prof-karin-ahl', { response: 'declined' }, { at: answeredAt });
    expect(checkPlan(next)).toEqual([]);
  });

  it('records a substitute; refuses one the consent excludes, and an answer from someone not invited', () => {
    const next = answerSummons(summoned(), 'meeting-2', 'prof-erik-berg', { response: 'declined', substitute: 'prof-anna-lind' }, { at: answeredAt });
    expect(next.meetings[1]?.summons?.invitees[1]?.substitute).toBe('prof-anna-lind');
    expect(checkPlan(next)).toEqual([]);
    expect(refusal(() => answerSummons(summoned(), 'meeting-2', 'prof-erik-berg', { response: 'declined', substitute: 'unit-vc-britsarvet' }, { at: answeredAt }))).toEqual([
      ['summons.invitee-excluded', 'error', '/meetings/1/summons/invitees/1/substitute'],
    ]);
    expect(refusal(() => answerSummons(summoned(), 'meeting-2', 'prof-lars-nyman', { response: 'accepted' }, { at: answeredAt }))).toEqual([
      ['plan.unresolved-reference', 'error', '/meetings/1/summons/invitees'],
    ]);
  });

  it('an answer dated before the summons was sent, or after the version recording it, breaks summons.answer-out-of-time', () => {
    const early = answerSummons(summoned(), 'meeting-2', 'individual', { response: 'accepted', respondedAt: '2026-04-02T08:59:00+02:00' }, { at: answeredAt });
    expect(checkPlan(early).map((problem) => [problem.code, problem.severity, problem.pointer])).toEqual([['summons.answer-out-of-time', 'error', '/meetings/1/summons/invitees/0/respondedAt']]);
    const future = answerSummons(summoned(), 'meeting-2', 'individual', { response: 'accepted', respondedAt: '2026-04-03T09:00:01+02:00' }, { at: answeredAt });
    expect(checkPlan(future).map((problem) => problem.code)).toEqual(['summons.answer-out-of-time']);
    const onTime = answerSummons(summoned(), 'meeting-2', 'individual', { response: 'accepted', respondedAt: '2026-04-02T09:00:00+02:00' }, { at: answeredAt });
    expect(checkPlan(onTime)).toEqual([]);
  });

  it('takes no answer for a meeting that is only planned', () => {
    const withMeeting = addMeeting(adult(), { id: 'meeting-2', kind: 'followUp' }, { at: planned });
    expect(refusal(() => answerSummons(withMeeting, 'meeting-2', 'individual', { response: 'accepted' }, { at: sent }))).toEqual([['meeting.status-change', 'error', '/meetings/1/status']]);
  });
});

describe('held or cancelled', () => {
  const after = new Date('2026-04-15T15:00:00+02:00');
  const roles = { meetingLeader: 'prof-anna-lind', secretary: 'prof-sara-holm', contactPersonAfterMeeting: 'prof-anna-lind' };

  it('records a summoned meeting as held after its start, with its roles', () => {
    const held = recordMeetingOutcome(summoned(), 'meeting-2', { status: 'held', ...roles }, { at: after });
    expect(held.meetings[1]).toMatchObject({ status: 'held', ...roles });
    expect(checkPlan(held)).toEqual([]);
  });

  it('a held meeting without its roles warns (meeting.roles-not-appointed); held before its start breaks meeting.held-before-start', () => {
    const withoutRoles = recordMeetingOutcome(summoned(), 'meeting-2', { status: 'held' }, { at: after });
    expect(checkPlan(withoutRoles).map((problem) => [problem.code, problem.severity])).toEqual([
      ['meeting.roles-not-appointed', 'warning'],
      ['meeting.roles-not-appointed', 'warning'],
      ['meeting.roles-not-appointed', 'warning'],
    ]);
    const early = recordMeetingOutcome(summoned(), 'meeting-2', { status: 'held', ...roles }, { at: new Date('2026-04-15T12:59:00+02:00') });
    expect(checkPlan(early).map((problem) => [problem.code, problem.severity, problem.pointer])).toEqual([['meeting.held-before-start', 'error', '/meetings/1/status']]);
  });

  it('refuses to hold a meeting never summoned, and any change after held or cancelled', () => {
    const withMeeting = addMeeting(adult(), { id: 'meeting-2', kind: 'followUp' }, { at: planned });
    expect(refusal(() => recordMeetingOutcome(withMeeting, 'meeting-2', { status: 'held' }, { at: after }))).toEqual([['meeting.summons-missing', 'error', '/meetings/1']]);
    const cancelled = recordMeetingOutcome(withMeeting, 'meeting-2', { status: 'cancelled' }, { at: sent });
    expect(cancelled.meetings[1]?.status).toBe('cancelled');
    expect(refusal(() => recordMeetingOutcome(cancelled, 'meeting-2', { status: 'held' }, { at: after }))).toEqual([['meeting.status-change', 'error', '/meetings/1/status']]);
    expect(refusal(() => summonMeeting(cancelled, 'meeting-2', summons, { at: sent }))).toEqual([['meeting.status-change', 'error', '/meetings/1/status']]);
    expect(refusal(() => recordMeetingOutcome(adult(), 'meeting-1', { status: 'cancelled' }, { at: after }))).toEqual([['meeting.status-change', 'error', '/meetings/0/status']]);
  });
});

describe('a new consent', () => {
  it('is recorded for this plan as the next version', () => {
    const next = recordConsent(adult(), { id: 'consent-2', givers: ['individual'], form: 'written', givenAt: '2026-04-01', validUntil: '2027-03-31', coveredActors: ['region-dalarna', 'falu-kommun'], excludedInformation: [], excludedParties: [] }, { at: planned });
    expect(next.consents[1]).toMatchObject({ id: 'consent-2', planId: 'sip-falun-2026-0142' });
    expect(next.version).toBe(adult().version + 1);
    expect(checkPlan(next)).toEqual([]);
  });

  it('one for another plan breaks consent.not-plan-specific', () => {
    const next = recordConsent(adult(), { id: 'consent-2', planId: 'another-plan', givers: ['individual'], form: 'written', givenAt: '2026-04-01', validUntil: '2027-03-31', coveredActors: ['region-dalarna', 'falu-kommun'], excludedInformation: [], excludedParties: [] }, { at: planned });
    expect(checkPlan(next).map((problem) => [problem.code, problem.pointer])).toEqual([['consent.not-plan-specific', '/consents/1/planId']]);
  });
});
