/**
 * One targeted mutation per SIP rule: a valid example plan, broken in exactly one way, so that the
 * rule (and no other error) fires. `npm run examples:invalid` writes them to examples/invalid/ as
 * `<rule code>.json`; the tests check each file against its rule and that the files are current.
 *
 * Mutations work on plans as written (parsed JSON), so they can also break what the schema would
 * otherwise fill in with defaults.
 */

/** A plan as JSON: the mutation boundary, where plans are untyped data. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON that mutations edit freely
export type PlanJson = Record<string, any>;

export interface Mutation {
  /** The rule the mutated plan breaks; also the file name under examples/invalid/. */
  readonly code: string;
  /** The valid example it starts from, under examples/. */
  readonly base: string;
  /** What was changed, in one sentence. */
  readonly description: string;
  readonly apply: (plan: PlanJson) => void;
}

const ADULT = 'adult-psychiatry-addiction.json';
const CHILD = 'child-two-guardians-school.json';
const CLOSED = 'closed-consent-withdrawn.json';
const FOLLOW_UP = 'follow-up-revised-goals.json';
const AWAITING = 'awaiting-decision.json';
const ELDERLY = 'elderly-discharge-multimorbidity.json';

/**
 * Every approval in force names the current version and carries no digest: the principals approved
 * the plan exactly as mutated. The completeness rules apply only to a plan under approval, and an
 * approval's digest would otherwise no longer match the mutated part (src/sip/approval-digest.ts).
 */
function approvedAsMutated(plan: PlanJson): void {
  for (const approval of plan.approvals) {
    if (approval.withdrawn !== undefined) continue;
    approval.version = plan.version;
    delete approval.digest;
  }
}

export const MUTATIONS: readonly Mutation[] = [
  {
    code: 'plan.duplicate-id',
    base: ADULT,
    description: 'A new goal reuses the id of an existing goal.',
    apply: (plan) => {
      plan.goals.push({ id: 'goal-1', description: 'Jag vill träffa mina vänner oftare.' });
    },
  },
  {
    code: 'plan.unresolved-reference',
    base: ADULT,
    description: 'The overall responsible principal names a unit instead of a principal.',
    apply: (plan) => {
      plan.overallResponsiblePrincipal = 'unit-psyk-falun';
    },
  },
  {
    code: 'individual.birth-date-mismatch',
    base: ADULT,
    description: 'A birth date one day off the personnummer is added.',
    apply: (plan) => {
      plan.individual.birthDate = '1985-03-15';
    },
  },
  {
    code: 'individual.birth-date-unknown',
    base: ADULT,
    description: 'The personnummer is replaced by a reservnummer and no birth date is given.',
    apply: (plan) => {
      plan.individual.identifier = { system: 'reservnummer', value: 'RN-2026-000417', issuer: 'https://reservnummer.example.se/region-dalarna' };
    },
  },
  {
    code: 'individual.protected-identity-contact',
    base: 'protected-identity.json',
    description: 'A home address and phone number are added for the person with skyddad folkbokföring.',
    apply: (plan) => {
      plan.individual.contact = { phone: '070-111 22 33', address: { line: ['Hemliga gatan 1'], postalCode: '413 01', city: 'Göteborg' } };
    },
  },
  {
    code: 'plan.missing-principal',
    base: ADULT,
    description: 'A draft whose region is recorded as a second municipality, with only others\' actions so far.',
    apply: (plan) => {
      plan.approvals = [];
      plan.interventions = plan.interventions.filter((intervention: PlanJson) => ['fk', 'individual'].includes(intervention.responsible));
      plan.principals[0].kind = 'municipality';
      delete plan.principals[0].countyCode;
    },
  },
  {
    code: 'plan.single-principal',
    base: ADULT,
    description: "An approved plan in which every principal intervention is the municipality's.",
    apply: (plan) => {
      plan.interventions = plan.interventions.filter((intervention: PlanJson) => intervention.responsible !== 'unit-psyk-falun');
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.compulsory-care-discharge',
    base: ADULT,
    description: 'The plan is made as the person leaves psychiatric inpatient care for öppen psykiatrisk tvångsvård under LPT.',
    apply: (plan) => {
      plan.discharge = { from: 'psychiatricInpatientCare', dischargedAt: '2026-03-05', compulsoryCare: 'LPT' };
    },
  },
  {
    code: 'consent.missing',
    base: ADULT,
    description: 'No consent is recorded and the meeting is only planned, not summoned.',
    apply: (plan) => {
      plan.consents = [];
      plan.meetings[0].status = 'planned';
      delete plan.meetings[0].summons;
    },
  },
  {
    code: 'consent.expired',
    base: ADULT,
    description: 'The plan version is recorded after the consent\'s last valid day (with a follow-up date still to come).',
    apply: (plan) => {
      plan.updatedAt = '2027-02-12T09:00:00+01:00';
      plan.followUps[0].date = '2027-03-04';
    },
  },
  {
    code: 'consent.withdrawn',
    base: ADULT,
    description: 'The only consent is withdrawn but the plan is not closed.',
    apply: (plan) => {
      plan.consents[0].withdrawal = { withdrawnAt: '2026-03-12T09:00:00+01:00', withdrawnBy: 'individual', recordedBy: 'prof-anna-lind' };
    },
  },
  {
    code: 'consent.principal-not-covered',
    base: ADULT,
    description: "After the meeting the person withdraws the consent and gives a new one that covers only the municipality's part (and Försäkringskassan).",
    apply: (plan) => {
      plan.consents[0].withdrawal = { withdrawnAt: '2026-03-10T09:00:00+01:00', withdrawnBy: 'individual', recordedBy: 'prof-sara-holm' };
      plan.consents.push({ ...plan.consents[0], id: 'consent-2', givenAt: '2026-03-10', validUntil: '2027-03-09', coveredActors: ['falu-kommun', 'fk'] });
      delete plan.consents[1].withdrawal;
    },
  },
  {
    code: 'consent.child-view-missing',
    base: CHILD,
    description: "The consent for the child records neither the child's view nor why the child was not asked.",
    apply: (plan) => {
      delete plan.consents[0].childView;
    },
  },
  {
    code: 'consent.period-too-long',
    base: ADULT,
    description: 'The consent lasts one year and two days.',
    apply: (plan) => {
      plan.consents[0].validUntil = '2027-02-14';
    },
  },
  {
    code: 'consent.period-invalid',
    base: ADULT,
    description: 'An earlier consent ends the day before it was given.',
    apply: (plan) => {
      plan.consents.unshift({ ...plan.consents[0], id: 'consent-0', givenAt: '2026-02-01', validUntil: '2026-01-31' });
    },
  },
  {
    code: 'consent.not-plan-specific',
    base: ADULT,
    description: 'A second consent names another plan (a general consent).',
    apply: (plan) => {
      plan.consents.push({ ...plan.consents[0], id: 'consent-general', planId: 'all-care-and-social-services' });
    },
  },
  {
    code: 'consent.no-covered-actors',
    base: ADULT,
    description: 'A second consent names no actor.',
    apply: (plan) => {
      plan.consents.push({ ...plan.consents[0], id: 'consent-2', coveredActors: [] });
    },
  },
  {
    code: 'consent.guardian-missing',
    base: CHILD,
    description: 'One of the two custodial guardians has not given the consent.',
    apply: (plan) => {
      const guardians = new Set(plan.relatedPersons.filter((person: PlanJson) => person.kind === 'guardian').map((person: PlanJson) => person.id));
      const first = plan.consents[0].givers.findIndex((giver: string) => guardians.has(giver));
      plan.consents[0].givers.splice(first, 1);
    },
  },
  {
    code: 'consent.giver-not-entitled',
    base: ADULT,
    description: 'The consent is given by the person\'s sister instead of the person.',
    apply: (plan) => {
      plan.consents[0].givers = ['rel-maria'];
    },
  },
  {
    code: 'consent.undocumented',
    base: ADULT,
    description: 'The consent is oral and no one is named as having documented it.',
    apply: (plan) => {
      plan.consents[0].form = 'oral';
      delete plan.consents[0].documentedBy;
    },
  },
  {
    code: 'summons.without-consent',
    base: ADULT,
    description: 'The summons is sent the day before consent was given.',
    apply: (plan) => {
      plan.meetings[0].summons.sentAt = '2026-02-11T10:00:00+01:00';
    },
  },
  {
    code: 'summons.invitee-not-covered',
    base: ADULT,
    description: 'Försäkringskassan is left out of the consent but its officer is still summoned.',
    apply: (plan) => {
      plan.consents[0].coveredActors = plan.consents[0].coveredActors.filter((actor: string) => actor !== 'fk');
    },
  },
  {
    code: 'summons.invitee-excluded',
    base: ADULT,
    description: 'The person excludes the social worker who is summoned.',
    apply: (plan) => {
      plan.consents[0].excludedParties.push('prof-sara-holm');
    },
  },
  {
    code: 'meeting.summons-missing',
    base: ADULT,
    description: 'The held first meeting has lost its summons.',
    apply: (plan) => {
      delete plan.meetings[0].summons;
    },
  },
  {
    code: 'summons.incomplete',
    base: ADULT,
    description: 'The summons states neither a place nor a digital meeting link.',
    apply: (plan) => {
      delete plan.meetings[0].summons.location;
      delete plan.meetings[0].summons.digitalMeetingUrl;
    },
  },
  {
    code: 'summons.ends-before-start',
    base: ADULT,
    description: 'The summoned meeting ends an hour before it starts.',
    apply: (plan) => {
      plan.meetings[0].summons.end = '2026-03-05T12:00:00+01:00';
    },
  },
  {
    code: 'summons.sent-after-start',
    base: ADULT,
    description: 'The summons is recorded as sent the day after the meeting started.',
    apply: (plan) => {
      plan.meetings[0].summons.sentAt = '2026-03-06T09:00:00+01:00';
    },
  },
  {
    code: 'summons.declined-without-substitute',
    base: ADULT,
    description: 'The psychiatrist declines and no substitute is named.',
    apply: (plan) => {
      const declined = plan.meetings[0].summons.invitees.find((invitee: PlanJson) => invitee.response === 'declined');
      delete declined.substitute;
    },
  },
  {
    code: 'summons.school-not-invited',
    base: CHILD,
    description: 'The consent covers the school but nobody from the school is summoned.',
    apply: (plan) => {
      const schools = plan.otherActors.filter((actor: PlanJson) => actor.kind === 'school').map((actor: PlanJson) => actor.id);
      const ofSchool = new Set([
        ...schools,
        ...plan.professionals.filter((professional: PlanJson) => schools.includes(professional.organization)).map((professional: PlanJson) => professional.id),
      ]);
      for (const meeting of plan.meetings) {
        if (meeting.summons) meeting.summons.invitees = meeting.summons.invitees.filter((invitee: PlanJson) => !ofSchool.has(invitee.party));
      }
    },
  },
  {
    code: 'meeting.roles-not-appointed',
    base: ADULT,
    description: 'The held meeting names no secretary.',
    apply: (plan) => {
      delete plan.meetings[0].secretary;
    },
  },
  {
    code: 'meeting.held-before-start',
    base: ADULT,
    description: 'The meeting is moved to the day after the version that records it as held.',
    apply: (plan) => {
      plan.meetings[0].summons.start = '2026-03-13T13:00:00+01:00';
      plan.meetings[0].summons.end = '2026-03-13T14:30:00+01:00';
    },
  },
  {
    code: 'summons.answer-out-of-time',
    base: AWAITING,
    description: 'The person is recorded as answering the day before the summons was sent.',
    apply: (plan) => {
      const summons = plan.meetings[0].summons;
      const day = new Date(Date.parse(summons.sentAt) - 24 * 60 * 60 * 1000);
      summons.invitees[0].respondedAt = day.toISOString().replace(/\.\d{3}Z$/, 'Z');
    },
  },
  {
    code: 'plan.missing-goals',
    base: ADULT,
    description: 'Every goal is cancelled while the plan is approved.',
    apply: (plan) => {
      for (const goal of plan.goals) goal.status = 'cancelled';
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-interventions',
    base: ADULT,
    description: 'The approved plan has no interventions and says no one else acts.',
    apply: (plan) => {
      plan.interventions = [];
      plan.noActionsByOthers = true;
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-principal-interventions',
    base: ADULT,
    description: 'A second municipality is a principal, covered by the consent, but is responsible for no intervention.',
    apply: (plan) => {
      plan.principals.push({ id: 'borlange-kommun', kind: 'municipality', name: 'Borlänge kommun', municipalityCode: '2081' });
      plan.consents[0].coveredActors.push('borlange-kommun');
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-others-actions',
    base: ADULT,
    description: 'The actions of Försäkringskassan and of the person are removed, and "no actions by others" is not stated.',
    apply: (plan) => {
      plan.interventions = plan.interventions.filter((intervention: PlanJson) => !['fk', 'individual'].includes(intervention.responsible));
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-overall-responsible-principal',
    base: ADULT,
    description: 'The approved plan does not say which principal holds overall responsibility.',
    apply: (plan) => {
      delete plan.overallResponsiblePrincipal;
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-follow-up',
    base: ADULT,
    description: 'The approved plan has no follow-up date.',
    apply: (plan) => {
      plan.followUps = [];
      approvedAsMutated(plan);
    },
  },
  {
    code: 'plan.missing-coordinator',
    base: ADULT,
    description: 'The approved plan names no coordinator.',
    apply: (plan) => {
      delete plan.coordinator;
      approvedAsMutated(plan);
    },
  },
  {
    code: 'intervention.pending-decision-incomplete',
    base: ADULT,
    description: 'An intervention awaits a decision but only says who decides.',
    apply: (plan) => {
      plan.interventions[2].status = 'awaitingDecision';
      plan.interventions[2].pendingDecision = { decidedBy: 'socialnämndens arbetsutskott' };
      approvedAsMutated(plan);
    },
  },
  {
    code: 'intervention.pending-decision-dates',
    base: AWAITING,
    description: 'The decision on the assistive device is to be reported back a week before it is expected.',
    apply: (plan) => {
      plan.interventions[1].pendingDecision.reportBackBy = '2026-04-08';
    },
  },
  {
    code: 'decision.refused-backs-intervention',
    base: ELDERLY,
    description: 'The home-help decision is recorded as refused while the home help is ongoing.',
    apply: (plan) => {
      plan.interventions[5].decision.outcome = 'refused';
    },
  },
  {
    code: 'decision.made-while-awaiting',
    base: ELDERLY,
    description: 'The home help is recorded as awaiting a decision although its decision in force was made on 2026-01-27.',
    apply: (plan) => {
      plan.interventions[5].status = 'awaitingDecision';
      plan.interventions[5].pendingDecision = { decidedBy: 'biståndshandläggaren', meanwhile: 'Hemtjänsten fortsätter.', expectedDecisionDate: '2026-02-10', reportBackBy: '2026-02-12', reportBackTo: 'prof-jonas-wik' };
    },
  },
  {
    code: 'decision.after-recording',
    base: ELDERLY,
    description: 'The home-help decision is dated 2026-02-06, the day after the version was recorded (2026-02-05 15:30).',
    apply: (plan) => {
      plan.interventions[5].decision.decidedAt = '2026-02-06T09:00:00+01:00';
    },
  },
  {
    code: 'decision.former-act-after-change',
    base: ELDERLY,
    description: 'The home-help decision of 2026-01-27 cites 4 kap. 1 § of the former socialtjänstlag (2001:453).',
    apply: (plan) => {
      plan.interventions[5].decision.statute = { act: '2001:453', chapter: 4, section: 1 };
    },
  },
  {
    code: 'follow-up.overdue',
    base: ADULT,
    description: 'A version recorded on 2026-06-01, after the follow-up date 2026-05-28, with no follow-up held.',
    apply: (plan) => {
      plan.updatedAt = '2026-06-01T10:00:00+02:00';
    },
  },
  {
    code: 'follow-up.held-late',
    base: FOLLOW_UP,
    description: 'The follow-up held on 2026-02-10 had been planned for 2026-02-03.',
    apply: (plan) => {
      plan.followUps[0].date = '2026-02-03';
    },
  },
  {
    code: 'follow-up.held-at-not-held',
    base: FOLLOW_UP,
    description: 'The held follow-up names the first meeting instead of the follow-up meeting.',
    apply: (plan) => {
      plan.followUps[0].heldAt = 'meeting-1';
    },
  },
  {
    code: 'deviation.interim-principal-missing',
    base: ADULT,
    description: 'An open deviation (the psychiatric clinic did not come to a meeting) names no principal responsible meanwhile.',
    apply: (plan) => {
      plan.deviations = [
        {
          id: 'deviation-1',
          reportedAt: '2026-03-06T10:00:00+01:00',
          reportedBy: 'prof-sara-holm',
          concerns: 'unit-psyk-falun',
          category: 'absentFromMeeting',
          description: 'Psykiatrin kom inte till SIP-mötet och skickade ingen ersättare.',
          status: 'open',
        },
      ];
    },
  },
  {
    code: 'plan.reserved-id',
    base: ADULT,
    description: 'A patient association is recorded with the id "individual".',
    apply: (plan) => {
      plan.otherActors.push({ id: 'individual', kind: 'association', name: 'RSMH Falun' });
    },
  },
  {
    code: 'approval.future-version',
    base: ADULT,
    description: 'An approval names a version after the current one.',
    apply: (plan) => {
      plan.approvals[1].version = plan.version + 1;
    },
  },
  {
    code: 'approval.approver-not-of-principal',
    base: ADULT,
    description: "The region's approval is signed by a municipal social worker.",
    apply: (plan) => {
      plan.approvals[0].approvedBy = 'prof-sara-holm';
    },
  },
  {
    code: 'closure.missing-reason',
    base: CLOSED,
    description: 'The closure gives no reason.',
    apply: (plan) => {
      delete plan.closure.reason;
    },
  },
  {
    code: 'closure.consent-not-withdrawn',
    base: CLOSED,
    description: 'The plan is closed for a withdrawn consent, but the consent records no withdrawal.',
    apply: (plan) => {
      delete plan.consents[0].withdrawal;
    },
  },
  {
    code: 'closure.informed-missing',
    base: CLOSED,
    description: 'Only the person is recorded as informed of the closure.',
    apply: (plan) => {
      plan.closure.informed = ['individual'];
    },
  },
  {
    code: 'closure.not-at-follow-up',
    base: CLOSED,
    description: 'The plan is closed as its goals are met, but its last follow-up was never held.',
    apply: (plan) => {
      plan.closure.reason = 'goalsMet';
    },
  },
  {
    code: 'plan.closed-read-only',
    base: CLOSED,
    description: 'A new version is recorded a day after the plan was closed.',
    apply: (plan) => {
      const later = new Date(Date.parse(plan.closure.closedAt) + 24 * 3600 * 1000);
      plan.updatedAt = later.toISOString().replace(/\.\d{3}Z$/, 'Z');
      plan.version += 1;
    },
  },
];

/** The mutated plan, as a deep copy; the base is left untouched. */
export function mutate(base: PlanJson, mutation: Mutation): PlanJson {
  const copy = structuredClone(base);
  mutation.apply(copy);
  return copy;
}
