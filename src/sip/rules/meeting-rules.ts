/** Kallelse and SIP-möte: the summons and meeting rules of seed 001 §4.2–4.5 and seed 000. */
import { consentsInForce, decideExchange, isCoveredBy } from '../consent-status.js';
import { formatDate, stockholmDate } from '../dates.js';
import type { Meeting, Summons } from '../model/index.js';
import { lineage, principalOf } from '../plan-index.js';
import { toPointer } from '../problem.js';
import { isChildOn } from './consent-rules.js';
import { defineRule, type RuleContext } from './rule.js';

/** Every meeting that has a summons, with the pointer to that summons. */
function* summonses(context: RuleContext): Generator<{ meeting: Meeting; summons: Summons; path: (string | number)[] }> {
  for (const [i, meeting] of context.plan.meetings.entries()) {
    if (meeting.summons) yield { meeting, summons: meeting.summons, path: ['meetings', i, 'summons'] };
  }
}

export const summonsWithoutConsent = defineRule({
  code: 'summons.without-consent',
  kind: 'history',
  reportDeviation: true,
  title: 'No one is summoned before a consent for the SIP is in force.',
  source: { document: 'seed-001', section: '§4.2 Samtycke; §4 ("Den enskildes samtycke krävs för att starta en SIP-process")' },
  *check(context) {
    for (const { summons, path } of summonses(context)) {
      const sentAt = new Date(summons.sentAt);
      if (consentsInForce(context.plan, sentAt).length === 0) {
        yield {
          pointer: toPointer([...path, 'sentAt']),
          message: `The summons was sent on ${formatDate(stockholmDate(sentAt))}, when no consent for this SIP was in force`,
        };
      }
    }
  },
});

const ORGANIZATION_KINDS = new Set(['principal', 'unit', 'otherActor', 'professional']);

function invitedParties(summons: Summons): { party: string; path: (string | number)[] }[] {
  return summons.invitees.flatMap((invitee, j) => [
    ...(invitee.party === 'individual' ? [] : [{ party: invitee.party, path: ['invitees', j, 'party'] }]),
    ...(invitee.substitute === undefined ? [] : [{ party: invitee.substitute, path: ['invitees', j, 'substitute'] }]),
  ]);
}

export const summonsInviteeNotCovered = defineRule({
  code: 'summons.invitee-not-covered',
  kind: 'history',
  reportDeviation: true,
  title: 'Only actors the consent covers are summoned: the person decides who takes part.',
  source: { document: 'seed-001', section: '§4.2 Samtycke ("genom sitt samtycke också utser vilka aktörer som kallas"); §4.3' },
  *check(context) {
    const { plan, index } = context;
    for (const { summons, path } of summonses(context)) {
      const sentAt = new Date(summons.sentAt);
      if (consentsInForce(plan, sentAt).length === 0) continue; // summons.without-consent says it
      for (const { party, path: partyPath } of invitedParties(summons)) {
        if (!ORGANIZATION_KINDS.has(index.entities.get(party)?.kind ?? '')) continue;
        const decision = decideExchange(plan, index, party, sentAt);
        if (!decision.allowed && decision.reason === 'notCovered') {
          yield { pointer: toPointer([...path, ...partyPath]), message: `"${party}" is summoned but no consent in force covers it` };
        }
      }
    }
  },
});

export const summonsInviteeExcluded = defineRule({
  code: 'summons.invitee-excluded',
  kind: 'history',
  reportDeviation: true,
  title: 'A person or unit the individual has excluded is not summoned.',
  source: { document: 'seed-001', section: '§4.2 Samtycke ("personer/enheter som den enskilde inte samtycker till")' },
  *check(context) {
    const { plan, index } = context;
    for (const { summons, path } of summonses(context)) {
      const sentAt = new Date(summons.sentAt);
      for (const { party, path: partyPath } of invitedParties(summons)) {
        const decision = decideExchange(plan, index, party, sentAt);
        if (!decision.allowed && decision.reason === 'excluded') {
          yield { pointer: toPointer([...path, ...partyPath]), message: `"${party}" is summoned but the person's consent excludes it` };
        }
      }
    }
  },
});

export const meetingWithoutSummons = defineRule({
  code: 'meeting.summons-missing',
  kind: 'integrity',
  title: 'A meeting that has been summoned or held has its summons: when, where, the agenda and who was invited.',
  source: { document: 'seed-001', section: '§4.4 Kallelse (the meeting is called by a summons that states time, place and invitees)' },
  *check({ plan }) {
    for (const [i, meeting] of plan.meetings.entries()) {
      if ((meeting.status === 'summoned' || meeting.status === 'held') && meeting.summons === undefined) {
        yield { pointer: toPointer(['meetings', i]), message: `Meeting "${meeting.id}" is ${meeting.status} but has no summons` };
      }
    }
  },
});

export const summonsIncomplete = defineRule({
  code: 'summons.incomplete',
  kind: 'history',
  title: 'A summons states a place or digital meeting link, everyone invited and the contact details of the one who convenes.',
  source: { document: 'seed-001', section: '§4.4 Kallelse' },
  *check(context) {
    for (const { summons, path } of summonses(context)) {
      if (summons.location === undefined && summons.digitalMeetingUrl === undefined) {
        yield { pointer: toPointer(path), message: 'The summons states neither a place (location) nor a digital meeting link (digitalMeetingUrl)' };
      }
      if (summons.invitees.length === 0) {
        yield { pointer: toPointer([...path, 'invitees']), message: 'The summons lists no one invited' };
      }
      if (summons.contact === undefined) {
        yield { pointer: toPointer(path), message: 'The summons gives no contact details of the one who convenes (contact)' };
      } else if (summons.contact.phone === undefined && summons.contact.email === undefined) {
        yield { pointer: toPointer([...path, 'contact']), message: 'The contact details name neither a phone number nor an e-mail address' };
      }
    }
  },
});

export const summonsEndsBeforeStart = defineRule({
  code: 'summons.ends-before-start',
  kind: 'integrity',
  title: 'A summoned meeting ends after it starts.',
  source: { document: 'seed-001', section: '§4.4 Kallelse ("Tid och plats")' },
  *check(context) {
    for (const { summons, path } of summonses(context)) {
      if (Date.parse(summons.end) <= Date.parse(summons.start)) {
        yield { pointer: toPointer([...path, 'end']), message: `The meeting ends (${summons.end}) before it starts (${summons.start})` };
      }
    }
  },
});

export const summonsSentAfterStart = defineRule({
  code: 'summons.sent-after-start',
  kind: 'integrity',
  title: 'A summons is sent before the meeting it calls to starts.',
  source: { document: 'seed-001', section: '§4.4 Kallelse ("Kallelse/inbjudan till SIP-möte skickas … till inbjudna aktörer"); §4.3 Förberedelser' },
  *check(context) {
    for (const { summons, path } of summonses(context)) {
      if (Date.parse(summons.sentAt) >= Date.parse(summons.start)) {
        yield {
          pointer: toPointer([...path, 'sentAt']),
          message: `The summons is recorded as sent at ${summons.sentAt}, not before the meeting it calls to started (${summons.start})`,
        };
      }
    }
  },
});

export const summonsDeclinedWithoutSubstitute = defineRule({
  code: 'summons.declined-without-substitute',
  kind: 'history',
  reportDeviation: true,
  title: "A principal's invitee who cannot come names a substitute.",
  source: { document: 'seed-001', section: '§4.4 Kallelse ("Vid förhinder ska en ersättare utses"); §3.5' },
  *check(context) {
    for (const { summons, path } of summonses(context)) {
      for (const [j, invitee] of summons.invitees.entries()) {
        if (invitee.response !== 'declined' || invitee.substitute !== undefined || invitee.party === 'individual') continue;
        if (principalOf(context.index, invitee.party) === undefined) continue; // other actors have no duty to attend
        yield {
          pointer: toPointer([...path, 'invitees', j]),
          message: `"${invitee.party}" acts for a principal and declined without naming a substitute`,
        };
      }
    }
  },
});

export const summonsSchoolNotInvited = defineRule({
  code: 'summons.school-not-invited',
  kind: 'history',
  reportDeviation: true,
  title: "For a child, the school is summoned whenever the consent covers it.",
  source: {
    document: 'seed-001',
    section: '§3.3.1 ("ska förskola/skola alltid kallas när det gäller barn och unga, om samtycke finns")',
  },
  *check(context) {
    const { plan, index } = context;
    const schools = plan.otherActors.filter((actor) => actor.kind === 'school');
    for (const { meeting, summons, path } of summonses(context)) {
      if (meeting.kind === 'preMeeting') continue;
      const sentAt = new Date(summons.sentAt);
      if (isChildOn(context, formatDate(stockholmDate(sentAt))) !== true) continue;
      const inForce = consentsInForce(plan, sentAt);
      for (const school of schools) {
        if (!inForce.some((consent) => isCoveredBy(consent, index, school.id))) continue;
        const invited = summons.invitees.some(
          (invitee) =>
            invitee.party !== 'individual' &&
            [invitee.party, invitee.substitute].some((party) => party !== undefined && lineage(index, party).includes(school.id)),
        );
        if (!invited) {
          yield {
            pointer: toPointer([...path, 'invitees']),
            message: `The person is a child and the consent covers the school "${school.id}" (${school.name}), but the school is not summoned`,
          };
        }
      }
    }
  },
});

export const meetingRolesNotAppointed = defineRule({
  code: 'meeting.roles-not-appointed',
  kind: 'history',
  title: 'A held SIP meeting names its meeting leader, its secretary and whom the person can turn to afterwards.',
  source: { document: 'seed-000', section: '"Mötet" (utse mötesledare, sekreterare, vem den enskilde kan vända sig till); seed-001 §4.3' },
  *check({ plan }) {
    for (const [i, meeting] of plan.meetings.entries()) {
      if (meeting.status !== 'held' || meeting.kind === 'preMeeting') continue;
      const roles = [
        ['meetingLeader', 'meeting leader (mötesledare)'],
        ['secretary', 'secretary (sekreterare)'],
        ['contactPersonAfterMeeting', 'contact person after the meeting'],
      ] as const;
      for (const [field, name] of roles) {
        if (meeting[field] === undefined) {
          yield { pointer: toPointer(['meetings', i]), message: `The held meeting names no ${name} (${field})` };
        }
      }
    }
  },
});

export const meetingHeldBeforeStart = defineRule({
  code: 'meeting.held-before-start',
  kind: 'integrity',
  title: 'A meeting is recorded as held only once it has started: no version recorded before the start its summons gives says it was held.',
  source: { document: 'seed-001', section: '§4.4 Kallelse ("Tid och plats"); §4.5 Möte' },
  *check({ plan }) {
    for (const [i, meeting] of plan.meetings.entries()) {
      if (meeting.status !== 'held' || meeting.summons === undefined) continue;
      if (Date.parse(plan.updatedAt) < Date.parse(meeting.summons.start)) {
        yield {
          pointer: toPointer(['meetings', i, 'status']),
          message: `Meeting "${meeting.id}" is held in a version recorded at ${plan.updatedAt}, before it starts at ${meeting.summons.start}`,
        };
      }
    }
  },
});

export const summonsAnswerOutOfTime = defineRule({
  code: 'summons.answer-out-of-time',
  kind: 'integrity',
  title: 'An invitee answers a summons after it was sent, and no later than the version that records the answer.',
  source: { document: 'seed-001', section: '§4.4 Kallelse ("De kallade/inbjudna ska meddela vem som kommer delta på SIP-mötet")' },
  *check(context) {
    const recordedAt = Date.parse(context.plan.updatedAt);
    for (const { summons, path } of summonses(context)) {
      for (const [j, invitee] of summons.invitees.entries()) {
        if (invitee.respondedAt === undefined) continue;
        const respondedAt = Date.parse(invitee.respondedAt);
        const pointer = toPointer([...path, 'invitees', j, 'respondedAt']);
        if (respondedAt < Date.parse(summons.sentAt)) {
          yield { pointer, message: `"${invitee.party}" answered at ${invitee.respondedAt}, before the summons was sent at ${summons.sentAt}` };
        } else if (respondedAt > recordedAt) {
          yield { pointer, message: `"${invitee.party}" answered at ${invitee.respondedAt}, after the version recording the answer (${context.plan.updatedAt})` };
        }
      }
    }
  },
});
