/**
 * The meeting and its summons as the SIP process changes them (seed 001 §4.3–4.5), and a new consent
 * (seed 001 §4.2). Each change returns the next version of the plan and leaves its input untouched;
 * each refuses, with a `SipRuleError`, what a rule forbids. The plan-wide rules are applied by whoever
 * records the version (the service checks every version with `checkPlan`); what is judged here is
 * what the change itself does now.
 *
 * A meeting goes `planned` → `summoned` → `held`, or is `cancelled` before it is held. The summons
 * rules are `history` rules: about a summons recorded as sent in the past they warn, since the past
 * cannot be corrected. A summons sent now is not the past, so the same rules refuse it here, as the
 * approval rules refuse an approval ({@link approvePlan}): no one is summoned without a consent in
 * force, nobody the consent excludes or does not cover is summoned (the summons carries the person's
 * name and the agenda to every invitee), and the summons states what seed 001 §4.4 asks.
 */
import type { Consent, Invitee, Meeting, SipPlan, Summons } from './model/index.js';
import { SipRuleError, toPointer, type Problem } from './problem.js';
import { checkPlan, DEVIATION_ADVICE, RULES } from './rules/index.js';
import { assertOpen, refuse, type ChangeContext } from './transitions.js';

/**
 * The code of a refused change of a meeting's status: a held or cancelled meeting is a fact and does
 * not change, an answer is given to a summons that was sent, a meeting is held only after a summons.
 */
export const MEETING_STATUS_CHANGE = 'meeting.status-change';

/** A new meeting as the caller describes it: its status and summons change only through their own transitions. */
export type NewMeeting = Omit<Meeting, 'status' | 'summons'>;

/** A summons as the caller sends it: when it was sent is the moment it is recorded, and nobody has answered yet. */
export type SummonsToSend = Omit<Summons, 'sentAt' | 'invitees'> & { invitees: Pick<Invitee, 'party' | 'required'>[] };

/** An invitee's answer; `respondedAt` defaults to the moment it is recorded. */
export interface SummonsAnswer {
  readonly response: 'accepted' | 'declined' | 'tentative';
  readonly respondedAt?: string;
  readonly substitute?: string;
}

/** What the record of a held or cancelled meeting says. */
export type MeetingOutcome = { readonly status: 'held' | 'cancelled' } & Partial<Pick<Meeting, 'meetingLeader' | 'secretary' | 'contactPersonAfterMeeting' | 'notes'>>;

/** The summons rules a summons sent now must meet (all but the answers', which nobody has given yet). */
const SUMMONS_RULES = RULES.filter((rule) => rule.code.startsWith('summons.') && rule.code !== 'summons.declined-without-substitute');
/** The summons rules that guard the person's consent: who may be summoned at all (seed 001 §4.2). */
const CONSENT_SUMMONS_RULES = RULES.filter((rule) => ['summons.without-consent', 'summons.invitee-not-covered', 'summons.invitee-excluded'].includes(rule.code));

const nextVersion = (plan: SipPlan, at: Date): Pick<SipPlan, 'version' | 'updatedAt'> => ({ version: plan.version + 1, updatedAt: at.toISOString() });

/**
 * The problems `rules` find at or under `pointer` in `plan`, as errors: they judge what happens now,
 * which is refused, so there is no deviation to report (seed 001 §5.2 is about what happened).
 */
function refusedNow(plan: SipPlan, rules: typeof RULES, pointer: string): Problem[] {
  const advice = `; ${DEVIATION_ADVICE}`;
  return checkPlan(plan, { rules })
    .filter((problem) => problem.pointer === pointer || problem.pointer.startsWith(`${pointer}/`))
    .map(({ reportDeviation: _report, ...problem }) => ({
      ...problem,
      severity: 'error' as const,
      message: problem.message.endsWith(advice) ? problem.message.slice(0, -advice.length) : problem.message,
    }));
}

function meetingAt(plan: SipPlan, meetingId: string): { meeting: Meeting; index: number } {
  const index = plan.meetings.findIndex((meeting) => meeting.id === meetingId);
  const meeting = plan.meetings[index];
  if (meeting === undefined) refuse('plan.unresolved-reference', `"${meetingId}" is not a meeting of this plan`, '/meetings');
  return { meeting, index };
}

const withMeeting = (plan: SipPlan, index: number, meeting: Meeting, at: Date): SipPlan => ({
  ...plan,
  ...nextVersion(plan, at),
  meetings: plan.meetings.map((existing, i) => (i === index ? meeting : existing)),
});

/** Plans a meeting (seed 001 §4.3 Förberedelser): it is `planned` until its summons is sent. */
export function addMeeting(plan: SipPlan, meeting: NewMeeting, { at }: ChangeContext): SipPlan {
  assertOpen(plan);
  return { ...plan, ...nextVersion(plan, at), meetings: [...plan.meetings, { ...meeting, status: 'planned' }] };
}

/**
 * Sends the summons of a planned meeting (seed 001 §4.4), or a new one for a summoned meeting (a new
 * time or place), which asks everyone again. The meeting becomes `summoned`.
 */
export function summonMeeting(plan: SipPlan, meetingId: string, summons: SummonsToSend, { at }: ChangeContext): SipPlan {
  assertOpen(plan);
  const { meeting, index } = meetingAt(plan, meetingId);
  if (meeting.status !== 'planned' && meeting.status !== 'summoned') {
    refuse(MEETING_STATUS_CHANGE, `Meeting "${meetingId}" is ${meeting.status}; a summons is sent for a planned meeting`, toPointer(['meetings', index, 'status']));
  }
  const sent: Summons = {
    ...summons,
    sentAt: at.toISOString(),
    invitees: summons.invitees.map((invitee) => ({ party: invitee.party, required: invitee.required, response: 'noResponse' })),
  };
  const next = withMeeting(plan, index, { ...meeting, status: 'summoned', summons: sent }, at);
  const problems = refusedNow(next, SUMMONS_RULES, toPointer(['meetings', index, 'summons']));
  if (problems.length > 0) throw new SipRuleError(problems);
  return next;
}

/**
 * Records an invitee's answer to a summons (seed 001 §4.4: "De kallade/inbjudna ska meddela vem som
 * kommer delta på SIP-mötet. Vid förhinder ska en ersättare utses"). A substitute is summoned by being
 * named, so the consent must allow it as it allows an invitee. A principal's invitee who declines
 * without a substitute is recorded, with the warning `summons.declined-without-substitute`.
 */
export function answerSummons(plan: SipPlan, meetingId: string, party: string, answer: SummonsAnswer, { at }: ChangeContext): SipPlan {
  assertOpen(plan);
  const { meeting, index } = meetingAt(plan, meetingId);
  if (meeting.status !== 'summoned' || meeting.summons === undefined) {
    refuse(MEETING_STATUS_CHANGE, `Meeting "${meetingId}" is ${meeting.status}; answers are recorded while the meeting is summoned`, toPointer(['meetings', index, 'status']));
  }
  const { summons } = meeting;
  const position = summons.invitees.findIndex((invitee) => invitee.party === party);
  if (position < 0) refuse('plan.unresolved-reference', `"${party}" is not invited to meeting "${meetingId}"`, toPointer(['meetings', index, 'summons', 'invitees']));
  const invitees = summons.invitees.map((invitee, j) => {
    if (j !== position) return invitee;
    const answered: Invitee = { party: invitee.party, required: invitee.required, response: answer.response, respondedAt: answer.respondedAt ?? at.toISOString() };
    return answer.substitute === undefined ? answered : { ...answered, substitute: answer.substitute };
  });
  const next = withMeeting(plan, index, { ...meeting, summons: { ...summons, invitees } }, at);
  const problems = refusedNow(next, CONSENT_SUMMONS_RULES, toPointer(['meetings', index, 'summons', 'invitees', position, 'substitute']));
  if (problems.length > 0) throw new SipRuleError(problems);
  return next;
}

/**
 * Records that a summoned meeting was held, with its roles (seed 000 "Mötet"; seed 001 §4.5), or that
 * a planned or summoned meeting was cancelled. Held and cancelled are final. A meeting recorded as
 * held before its start breaks `meeting.held-before-start`, which the plan's rules report.
 */
export function recordMeetingOutcome(plan: SipPlan, meetingId: string, outcome: MeetingOutcome, { at }: ChangeContext): SipPlan {
  assertOpen(plan);
  const { meeting, index } = meetingAt(plan, meetingId);
  const pointer = toPointer(['meetings', index, 'status']);
  if (meeting.status === 'held' || meeting.status === 'cancelled') refuse(MEETING_STATUS_CHANGE, `Meeting "${meetingId}" is ${meeting.status} already, which is final`, pointer);
  if (outcome.status === 'held' && meeting.status === 'planned') {
    refuse('meeting.summons-missing', `Meeting "${meetingId}" was never summoned; send its summons before recording it as held`, toPointer(['meetings', index]));
  }
  return withMeeting(plan, index, { ...meeting, ...outcome }, at);
}

/**
 * Records a new consent (seed 001 §4.2), e.g. when the last one nears its end or a guardian's is
 * added. It names this plan unless the caller says otherwise (which `consent.not-plan-specific`
 * then refuses).
 */
export function recordConsent(plan: SipPlan, consent: Omit<Consent, 'planId' | 'withdrawal'> & { planId?: string }, { at }: ChangeContext): SipPlan {
  assertOpen(plan);
  return { ...plan, ...nextVersion(plan, at), consents: [...plan.consents, { ...consent, planId: consent.planId ?? plan.id }] };
}
