/**
 * FHIR → the plan's content: CarePlan activities → interventions, Goals → goals, Consents → consents,
 * Appointments → meetings, Provenance → approvals, DetectedIssue → deviations, and the
 * QuestionnaireResponse → the person's own account. Each function is the inverse of its writer in
 * `../write/`; what it cannot map is reported on the context.
 */
import type { Appointment, CarePlan, CarePlanActivity, Consent, DetectedIssue, Element, Goal, Provenance, QuestionnaireResponse, ServiceRequest } from 'fhir/r4.js';
import { definedMembers, informationClassSchema, ownValue, type InformationClass, type SipPlanInput } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM, IDENTIFIER_SYSTEM, codeSystemUrl } from '../canonical.js';
import {
  APPROVAL_WITHDRAWAL_REASON,
  CLOSURE_REASON,
  COMPULSORY_CARE,
  CONSENT_FORM,
  DEVIATION_CATEGORY,
  INFORMATION_CLASS,
  INPATIENT_CARE,
  MEETING_KIND,
  PARTICIPANT_ROLE,
  findOwnCode,
} from '../code-systems.js';
import { APPOINTMENT_STATUS, PARTICIPANT_STATUS } from '../write/appointment.js';
import { ACTIVITY_STATUS } from '../write/care-plan.js';
import { DECISION_STATUS, SCOPE_PERIOD } from '../write/decision.js';
import { DEVIATION_STATUS as WRITTEN_DEVIATION_STATUS } from '../write/deviation.js';
import { OWN_ACCOUNT_TEXT_ITEMS, WANTS_TO_ATTEND_ITEM } from '../write/own-account.js';
import { translateToOwn } from '../concept-maps.js';
import type { IndexedEntry } from './bundle-index.js';
import { contactOf, partyOf } from './read-parties.js';
import type { ReadContext } from './read-context.js';
import { LOCAL_ID, codeOf, extensionOf, extensionsOf, invert, partOf, partsOf } from './read-context.js';

type Input<K extends keyof SipPlanInput> = NonNullable<SipPlanInput[K]>;
type InterventionInput = Input<'interventions'>[number];
type DecisionInput = NonNullable<InterventionInput['decision']>;
type GoalInput = Input<'goals'>[number];
type ConsentInput = Input<'consents'>[number];
type MeetingInput = Input<'meetings'>[number];
type InviteeInput = NonNullable<NonNullable<MeetingInput['summons']>['invitees']>[number];
type ApprovalInput = Input<'approvals'>[number];
type DeviationInput = Input<'deviations'>[number];

/** A FHIR date or dateTime reduced to the SIP's calendar date. */
function dateOf(value: string | undefined): string | undefined {
  return value?.slice(0, 10);
}

/** What the writer writes, read back; plus the codes other writers use that mean the same. */
const INTERVENTION_STATUS: Readonly<Record<string, InterventionInput['status']>> = {
  ...invert(ACTIVITY_STATUS),
  scheduled: 'planned',
  stopped: 'cancelled',
};

/**
 * The `information-class` extensions of a Goal, a CarePlan.activity or a DetectedIssue (written by
 * src/fhir/write/information-class.ts), each class once; undefined when there is none, so the plan
 * gets its default. A Coding that is not of sip-information-class (nor maps to it through the
 * project's ConceptMap from v3) is read as "other", with a warning: an exclusion of "other" then
 * still removes the item, where dropping the tag would send it.
 */
function readInformationClasses(context: ReadContext, element: Element | undefined, path: string): InformationClass[] | undefined {
  const extensions = extensionsOf(element, EXTENSION.informationClass);
  if (extensions.length === 0) return undefined;
  const classes = extensions.map((extension, i) => {
    const code = translateToOwn(INFORMATION_CLASS, [extension.valueCoding]);
    const parsed = informationClassSchema.safeParse(code);
    if (parsed.success) return parsed.data;
    context.issue('warning', 'code-invalid', `${path}.extension('${EXTENSION.informationClass}')[${String(i)}]`, 'An information class without a SIP code is read as "other"');
    return 'other' as const;
  });
  return [...new Set(classes)];
}

export function readIntervention(context: ReadContext, plan: IndexedEntry & { resource: CarePlan }, activity: CarePlanActivity, position: number): InterventionInput | undefined {
  const path = `${plan.path}.activity[${String(position)}]`;
  const detail = activity.detail;
  if (detail === undefined) {
    context.issue('warning', 'not-supported', `${path}.reference`, 'An activity given only as a reference to another resource is not mapped to an intervention');
    return undefined;
  }
  const performers = detail.performer ?? [];
  const parties = performers.map((performer, i) => partyOf(context, performer, plan, `${path}.detail.performer[${String(i)}]`));
  let [responsible, performer] = parties;
  const first = performers[0] === undefined ? undefined : context.index.resolve(performers[0], plan);
  const firstType = first?.resource.resourceType;
  if (performers.length === 1 && first !== undefined && (firstType === 'PractitionerRole' || firstType === 'Practitioner') && responsible !== undefined) {
    // Another writer named only the professional: the organisation they act for is responsible.
    performer = responsible;
    responsible =
      first.resource.resourceType === 'PractitionerRole' ? partyOf(context, first.resource.organization, first, `${first.path}.organization`) : undefined;
  }
  if (responsible === undefined) context.issue('error', 'required', `${path}.detail.performer`, 'The activity names no one responsible (performer)');
  const description = detail.description ?? detail.code?.text;
  if (description === undefined) context.issue('error', 'required', `${path}.detail.description`, 'The activity has no description');
  const status = ownValue(INTERVENTION_STATUS, detail.status);
  if (status === undefined) context.issue('warning', 'code-invalid', `${path}.detail.status`, `Activity status "${detail.status}" has no SIP equivalent; read as planned`);
  const period = detail.scheduledPeriod ?? detail.scheduledTiming?.repeat?.boundsPeriod;
  const pending = extensionOf(detail, EXTENSION.pendingDecision);
  const goals = (detail.goal ?? []).map((goal) => context.index.resolve(goal, plan)).map((entry) => (entry === undefined ? undefined : context.knownLocalId(entry)));
  const decisionLink = extensionOf(detail, EXTENSION.decision)?.valueReference;
  const decisionEntry = context.index.resolve(decisionLink, plan);
  if (decisionLink !== undefined && decisionEntry?.resource.resourceType !== 'ServiceRequest') {
    context.issue('warning', 'not-found', `${path}.detail.extension('${EXTENSION.decision}')`, 'The decision the intervention links to is not a ServiceRequest in the Bundle; it is left out');
  }
  return definedMembers<InterventionInput>({
    id: activity.id !== undefined && LOCAL_ID.test(activity.id) ? activity.id : `intervention-${String(position + 1)}`,
    informationClasses: readInformationClasses(context, activity, path),
    description: description ?? '?',
    responsible: responsible ?? '?',
    performer,
    goals: goals.filter((goal) => goal !== undefined),
    status: status ?? 'planned',
    start: dateOf(period?.start),
    end: dateOf(period?.end),
    schedule: detail.scheduledTiming?.code?.text ?? detail.scheduledString,
    pendingDecision:
      pending === undefined
        ? undefined
        : definedMembers({
            decidedBy: partOf(pending, 'decidedBy')?.valueString,
            meanwhile: partOf(pending, 'meanwhile')?.valueString,
            expectedDecisionDate: partOf(pending, 'expectedDecisionDate')?.valueDate,
            reportBackBy: partOf(pending, 'reportBackBy')?.valueDate,
            reportBackTo: partyOf(context, partOf(pending, 'reportBackTo')?.valueReference, plan, `${path}.detail.extension('${EXTENSION.pendingDecision}')`),
          }),
    decision: decisionEntry?.resource.resourceType === 'ServiceRequest' ? readDecision(context, decisionEntry as IndexedEntry & { resource: ServiceRequest }) : undefined,
  });
}

const DECISION_STATUS_READ: Readonly<Record<string, DecisionInput['status']>> = { ...invert(DECISION_STATUS), completed: 'inForce' };
const SCOPE_PER: Readonly<Record<string, 'week' | 'month'>> = invert(SCOPE_PERIOD);

/** The inverse of src/fhir/write/decision.ts: a decision's ServiceRequest → the intervention's decision. */
export function readDecision(context: ReadContext, entry: IndexedEntry & { resource: ServiceRequest }): DecisionInput {
  const request = entry.resource;
  const path = entry.path;
  const status = ownValue(DECISION_STATUS_READ, request.status);
  if (status === undefined) context.issue('warning', 'code-invalid', `${path}.status`, `ServiceRequest status "${request.status}" is neither in force (active) nor overturned (revoked); read as in force`);
  const statute = extensionOf(request, EXTENSION.statute);
  const act = partOf(statute, 'act')?.valueString;
  const section = partOf(statute, 'section')?.valuePositiveInt;
  if (act === undefined || section === undefined) context.issue('error', 'required', `${path}.extension('${EXTENSION.statute}')`, 'The decision states no statute (act and section)');
  const text = request.code?.text ?? request.code?.coding?.[0]?.display;
  if (text === undefined) context.issue('error', 'required', `${path}.code.text`, 'The decision does not say what it concerns (code.text)');
  if (request.authoredOn === undefined) context.issue('error', 'required', `${path}.authoredOn`, 'The decision has no decision time (authoredOn)');
  // Another writer's coding without a system or a code names no code of a known list: only the words are read.
  const coding = request.code?.coding?.find((candidate) => candidate.system !== undefined && candidate.code !== undefined);
  const numerator = request.quantityRatio?.numerator;
  const per = ownValue(SCOPE_PER, request.quantityRatio?.denominator?.code);
  if (request.quantityRatio !== undefined && (numerator?.code !== 'h' || per === undefined || request.quantityRatio.denominator?.value !== 1)) {
    context.issue('warning', 'not-supported', `${path}.quantityRatio`, 'The granted scope is not hours (h) per week (wk) or month (mo); it is not mapped');
  }
  const hours = numerator?.code === 'h' && per !== undefined ? numerator.value : undefined;
  const scope = definedMembers({ text: request.orderDetail?.[0]?.text, hours, per: hours === undefined ? undefined : per });
  return definedMembers<DecisionInput>({
    concerns: definedMembers({ system: coding?.system, code: coding?.code, text: text ?? '?' }),
    statute: definedMembers({
      act: act ?? '?',
      chapter: partOf(statute, 'chapter')?.valuePositiveInt,
      section: section ?? 0,
      point: partOf(statute, 'point')?.valuePositiveInt,
    }),
    outcome: request.doNotPerform === true ? 'refused' : 'granted',
    reasoning: request.reasonCode?.map((reason) => reason.text).find((reasoning) => reasoning !== undefined),
    decidedAt: request.authoredOn ?? '?',
    decidedBy: partyOf(context, request.requester, entry, `${path}.requester`),
    scope: Object.keys(scope).length === 0 ? undefined : scope,
    validFrom: dateOf(request.occurrencePeriod?.start),
    validTo: dateOf(request.occurrencePeriod?.end),
    provider: partyOf(context, request.performer?.[0], entry, `${path}.performer[0]`),
    status: status ?? 'inForce',
  });
}

const GOAL_STATUS = (goal: Goal): GoalInput['status'] => {
  if (goal.lifecycleStatus === 'cancelled' || goal.lifecycleStatus === 'rejected' || goal.lifecycleStatus === 'entered-in-error') return 'cancelled';
  if (goal.lifecycleStatus !== 'completed') return 'active';
  return codeOf(goal.achievementStatus, HL7_SYSTEM.goalAchievement) === 'not-achieved' ? 'notAchieved' : 'achieved';
};

export function readGoal(context: ReadContext, entry: IndexedEntry & { resource: Goal }, goals: readonly (IndexedEntry & { resource: Goal })[]): GoalInput {
  const goal = entry.resource;
  const replaced = goals.find((other) =>
    extensionsOf(other.resource, EXTENSION.goalRelationship).some(
      (relationship) =>
        codeOf(partOf(relationship, 'type')?.valueCodeableConcept, HL7_SYSTEM.goalRelationshipType) === 'replacement' &&
        context.index.resolve(partOf(relationship, 'target')?.valueReference, other) === entry,
    ),
  );
  if (goal.description.text === undefined) context.issue('error', 'required', `${entry.path}.description.text`, 'The Goal has no description text');
  const setAt = context.index.resolve(extensionOf(goal, EXTENSION.goalSetAt)?.valueReference, entry);
  return definedMembers<GoalInput>({
    id: context.localIdOf(entry),
    description: goal.description.text ?? '?',
    expressedBy: goal.expressedBy === undefined ? undefined : partyOf(context, goal.expressedBy, entry, `${entry.path}.expressedBy`),
    status: GOAL_STATUS(goal),
    targetDate: goal.target?.find((target) => target.dueDate !== undefined)?.dueDate,
    setAt: setAt === undefined ? undefined : context.knownLocalId(setAt),
    replaces: replaced === undefined ? undefined : context.localIdOf(replaced),
    informationClasses: readInformationClasses(context, goal, entry.path),
  });
}

export function readConsent(context: ReadContext, entry: IndexedEntry & { resource: Consent }, planId: string): ConsentInput {
  const consent = entry.resource;
  const path = entry.path;
  const root = consent.provision;
  const recording = extensionOf(consent, EXTENSION.consentRecording);
  const withdrawal = extensionOf(consent, EXTENSION.consentWithdrawal);
  const childView = extensionOf(consent, EXTENSION.childView);
  const form = findOwnCode(CONSENT_FORM, [partOf(recording, 'form')?.valueCoding]);
  const givenAt = dateOf(consent.dateTime ?? root?.period?.start);
  const validUntil = dateOf(root?.period?.end);
  if (givenAt === undefined) context.issue('error', 'required', `${path}.dateTime`, 'The Consent does not say when it was given');
  if (validUntil === undefined) context.issue('error', 'required', `${path}.provision.period.end`, 'The Consent has no end of its period (provision.period.end); a SIP consent is never open-ended');
  const data = root?.data?.find((item) => item.reference.type === 'CarePlan' || context.index.resolve(item.reference, entry)?.resource.resourceType === 'CarePlan');
  const dataTarget = data === undefined ? undefined : context.index.resolve(data.reference, entry);
  const consentPlanId =
    data === undefined
      ? undefined
      : dataTarget === undefined
        ? data.reference.identifier?.value
        : dataTarget.resource.resourceType === 'CarePlan'
          ? (dataTarget.resource.identifier?.find((identifier) => identifier.system === IDENTIFIER_SYSTEM.sipPlan)?.value ?? planId)
          : undefined;
  if (consentPlanId === undefined) context.issue('warning', 'incomplete', `${path}.provision.data`, 'The Consent does not name the SIP it is for; read as this plan');
  const nested = root?.provision ?? [];
  const party = (reference: Parameters<typeof partyOf>[1], at: string) => partyOf(context, reference, entry, at);
  return definedMembers<ConsentInput>({
    id: context.localIdOf(entry),
    planId: consentPlanId ?? planId,
    givers: (consent.performer ?? []).map((performer, i) => party(performer, `${path}.performer[${String(i)}]`)).filter((giver) => giver !== undefined),
    form: (form as ConsentInput['form'] | undefined) ?? (consent.verification === undefined ? 'written' : 'oral'),
    documentedBy: party(partOf(recording, 'documentedBy')?.valueReference, `${path}.extension('${EXTENSION.consentRecording}')`),
    documentedIn: partOf(recording, 'documentedIn')?.valueString,
    givenAt: givenAt ?? '?',
    validUntil: validUntil ?? '?',
    coveredActors: (root?.actor ?? []).map((actor, i) => party(actor.reference, `${path}.provision.actor[${String(i)}]`)).filter((actor) => actor !== undefined),
    excludedInformation: nested.flatMap((provision, i) =>
      (provision.code ?? []).map((code) => {
        const informationClass = translateToOwn(INFORMATION_CLASS, code.coding);
        if (informationClass === undefined) context.issue('warning', 'code-invalid', `${path}.provision.provision[${String(i)}].code`, 'An excluded information class without a SIP code is read as "other"');
        return definedMembers({ class: (informationClass ?? 'other') as 'other', description: code.text ?? (informationClass === undefined ? code.coding?.[0]?.display : undefined) });
      }),
    ),
    excludedParties: nested
      .flatMap((provision, i) =>
        (provision.actor ?? []).map((actor, j) => {
          const where = `${path}.provision.provision[${String(i)}].actor[${String(j)}]`;
          const excluded = party(actor.reference, where);
          // Leaving out an exclusion would widen what the person consented to: the consent cannot be read without it.
          if (excluded === undefined) context.issue('error', 'not-found', where, 'The consent excludes a party that cannot be read; without it the consent would allow more than the person agreed to');
          return excluded;
        }),
      )
      .filter((actor) => actor !== undefined),
    childView: childView === undefined ? undefined : definedMembers({ view: partOf(childView, 'view')?.valueString, notAskedReason: partOf(childView, 'notAskedReason')?.valueString }),
    withdrawal:
      withdrawal === undefined
        ? undefined
        : definedMembers({
            withdrawnAt: partOf(withdrawal, 'withdrawnAt')?.valueDateTime ?? '?',
            withdrawnBy: party(partOf(withdrawal, 'withdrawnBy')?.valueReference, `${path}.extension('${EXTENSION.consentWithdrawal}')`) ?? '?',
            recordedBy: party(partOf(withdrawal, 'recordedBy')?.valueReference, `${path}.extension('${EXTENSION.consentWithdrawal}')`),
            note: partOf(withdrawal, 'note')?.valueString,
          }),
  });
}

const MEETING_STATUS: Readonly<Record<string, MeetingInput['status']>> = {
  ...invert(APPOINTMENT_STATUS),
  pending: 'summoned',
  arrived: 'held',
  'checked-in': 'held',
  noshow: 'cancelled',
};

const RESPONSE: Readonly<Record<string, InviteeInput['response']>> = invert(PARTICIPANT_STATUS);

export function readMeeting(context: ReadContext, entry: IndexedEntry & { resource: Appointment }): MeetingInput {
  const appointment = entry.resource;
  const path = entry.path;
  const kind = context.ownCode(MEETING_KIND, appointment.appointmentType?.coding, `${path}.appointmentType`) ?? 'first';
  const roles = Object.fromEntries(
    extensionsOf(appointment, EXTENSION.meetingRole).map((role) => [
      findOwnCode(PARTICIPANT_ROLE, [partOf(role, 'role')?.valueCoding]) ?? '',
      partyOf(context, partOf(role, 'party')?.valueReference, entry, `${path}.extension('${EXTENSION.meetingRole}')`),
    ]),
  );
  // Without the extension, a participant's type tells its role.
  for (const [i, participant] of (appointment.participant).entries()) {
    for (const [k, type] of (participant.type ?? []).entries()) {
      const role = context.ownCode(PARTICIPANT_ROLE, type.coding, `${path}.participant[${String(i)}].type[${String(k)}]`);
      if (role !== undefined && roles[role] === undefined) roles[role] = partyOf(context, participant.actor, entry, `${path}.participant[${String(i)}].actor`);
    }
  }
  const summoned = appointment.created !== undefined || appointment.start !== undefined;
  let location: string | undefined;
  const invitees: InviteeInput[] = [];
  for (const [i, participant] of appointment.participant.entries()) {
    const actor = context.index.resolve(participant.actor, entry);
    if (actor?.resource.resourceType === 'Location') {
      location = actor.resource.name ?? actor.resource.description;
      continue;
    }
    if (!summoned) continue;
    const party = partyOf(context, participant.actor, entry, `${path}.participant[${String(i)}].actor`);
    if (party === undefined) continue;
    invitees.push(
      definedMembers<InviteeInput>({
        party,
        required: participant.required !== 'optional',
        response: ownValue(RESPONSE, participant.status) ?? 'noResponse',
        respondedAt: extensionOf(participant, EXTENSION.respondedAt)?.valueDateTime,
        substitute: partyOf(context, extensionOf(participant, EXTENSION.substitute)?.valueReference, entry, `${path}.participant[${String(i)}].extension`),
      }),
    );
  }
  const convener = extensionOf(appointment, EXTENSION.convener)?.valueReference;
  const contactExtension = extensionOf(appointment, EXTENSION.convenerContact);
  const contactName = partOf(contactExtension, 'name')?.valueString;
  const contact = contactOf(
    partsOf(contactExtension, 'telecom').flatMap((part) => (part.valueContactPoint === undefined ? [] : [part.valueContactPoint])),
    partsOf(contactExtension, 'address').flatMap((part) => (part.valueAddress === undefined ? [] : [part.valueAddress])),
  );
  const interpreter = extensionOf(appointment, EXTENSION.interpreter)?.valueString;
  if (summoned && (appointment.start === undefined || appointment.end === undefined)) {
    context.issue('error', 'required', `${path}.start`, 'A summoned meeting needs a start and an end');
  }
  if (summoned && convener === undefined) context.issue('error', 'required', `${path}.extension`, `The summons does not say who sent it (extension ${EXTENSION.convener})`);
  return definedMembers<MeetingInput>({
    id: context.localIdOf(entry),
    kind: kind as MeetingInput['kind'],
    status: ownValue(MEETING_STATUS, appointment.status) ?? 'planned',
    summons: summoned
      ? definedMembers({
          sentAt: appointment.created ?? '?',
          sentBy: partyOf(context, convener, entry, `${path}.extension('${EXTENSION.convener}')`) ?? '?',
          start: appointment.start ?? '?',
          end: appointment.end ?? '?',
          location,
          digitalMeetingUrl: partOf(extensionOf(appointment, EXTENSION.virtualService), 'address')?.valueUrl,
          agenda: appointment.description ?? '',
          invitees,
          interpreter: interpreter === undefined ? undefined : { language: interpreter },
          otherNeeds: extensionOf(appointment, EXTENSION.otherNeeds)?.valueString,
          contact: contactName === undefined ? undefined : { name: contactName, ...contact },
        })
      : undefined,
    meetingLeader: roles.meetingLeader,
    secretary: roles.secretary,
    contactPersonAfterMeeting: roles.contactPersonAfterMeeting,
    notes: extensionOf(appointment, EXTENSION.appointmentNote)?.valueAnnotation?.text,
  });
}

export function readApproval(context: ReadContext, entry: IndexedEntry & { resource: Provenance }, planVersion: number): ApprovalInput | undefined {
  const provenance = entry.resource;
  const agent = provenance.agent.find((candidate) => codeOf(candidate.type, HL7_SYSTEM.provenanceParticipantType) === 'verifier') ?? provenance.agent[0];
  const path = `${entry.path}.agent`;
  const principal = partyOf(context, agent?.onBehalfOf, entry, `${path}.onBehalfOf`);
  const approvedBy = partyOf(context, agent?.who, entry, `${path}.who`);
  if (principal === undefined) context.issue('error', 'required', `${path}.onBehalfOf`, 'The approval does not say which principal it is for');
  const withdrawal = extensionOf(provenance, EXTENSION.approvalWithdrawal);
  const version = extensionOf(provenance, EXTENSION.planVersion)?.valueInteger;
  if (version === undefined) context.issue('warning', 'incomplete', `${entry.path}.extension`, `The approval names no plan version; read as version ${String(planVersion)}`);
  return definedMembers<ApprovalInput>({
    principal: principal ?? '?',
    version: version ?? planVersion,
    approvedAt: provenance.recorded,
    approvedBy: approvedBy ?? '?',
    digest: extensionOf(provenance, EXTENSION.approvalDigest)?.valueString,
    withdrawn:
      withdrawal === undefined
        ? undefined
        : {
            at: partOf(withdrawal, 'at')?.valueDateTime ?? '?',
            reason: (findOwnCode(APPROVAL_WITHDRAWAL_REASON, [partOf(withdrawal, 'reason')?.valueCoding]) ?? 'revokedByPrincipal') as 'revokedByPrincipal',
          },
  });
}

const DEVIATION_STATUS: Readonly<Record<string, DeviationInput['status']>> = {
  ...invert(WRITTEN_DEVIATION_STATUS),
  amended: 'closed',
  corrected: 'closed',
};

export function readDeviation(context: ReadContext, entry: IndexedEntry & { resource: DetectedIssue }): DeviationInput {
  const issue = entry.resource;
  const reporter = extensionOf(issue, EXTENSION.reportedBy)?.valueReference ?? issue.author;
  const concerns = issue.implicated?.[0];
  return definedMembers<DeviationInput>({
    id: context.localIdOf(entry),
    reportedAt: issue.identifiedDateTime ?? '?',
    reportedBy: partyOf(context, reporter, entry, `${entry.path}.author`) ?? '?',
    concerns: partyOf(context, concerns, entry, `${entry.path}.implicated[0]`) ?? '?',
    category: (findOwnCode(DEVIATION_CATEGORY, issue.code?.coding) ?? 'other') as 'other',
    description: issue.detail ?? issue.code?.text ?? '?',
    status: ownValue(DEVIATION_STATUS, issue.status) ?? 'open',
    interimResponsibility: issue.mitigation?.[0]?.action.text,
    interimResponsiblePrincipal: partyOf(context, extensionOf(issue, EXTENSION.interimResponsiblePrincipal)?.valueReference, entry, `${entry.path}.extension('${EXTENSION.interimResponsiblePrincipal}')`),
    informationClasses: readInformationClasses(context, issue, entry.path),
  });
}

export function readOwnAccount(context: ReadContext, entry: IndexedEntry & { resource: QuestionnaireResponse }): NonNullable<SipPlanInput['ownAccount']> {
  const response = entry.resource;
  const answer = (linkId: string) => response.item?.find((item) => item.linkId === linkId)?.answer?.[0];
  const known = new Set<string>([...OWN_ACCOUNT_TEXT_ITEMS.map((item) => item.linkId), WANTS_TO_ATTEND_ITEM.linkId]);
  for (const [i, item] of (response.item ?? []).entries()) {
    if (!known.has(item.linkId)) context.issue('warning', 'not-supported', `${entry.path}.item[${String(i)}]`, `The answer "${item.linkId}" is not part of the SIP request form`);
  }
  return definedMembers({
    submittedAt: dateOf(response.authored),
    ...Object.fromEntries(OWN_ACCOUNT_TEXT_ITEMS.map(({ linkId }) => [linkId, answer(linkId)?.valueString])),
    wantsToAttendMeeting: answer(WANTS_TO_ATTEND_ITEM.linkId)?.valueBoolean,
  });
}

export function readClosure(context: ReadContext, plan: IndexedEntry & { resource: CarePlan }): SipPlanInput['closure'] {
  const closure = extensionOf(plan.resource, EXTENSION.closure);
  if (closure === undefined) {
    if (plan.resource.status === 'completed' || plan.resource.status === 'revoked') {
      context.issue('warning', 'incomplete', `${plan.path}.status`, `The CarePlan is ${plan.resource.status} but carries no closure details (extension ${EXTENSION.closure}); read as open`);
    }
    return undefined;
  }
  const where = `${plan.path}.extension('${EXTENSION.closure}')`;
  return definedMembers({
    reason: findOwnCode(CLOSURE_REASON, [partOf(closure, 'reason')?.valueCoding]) as 'other' | undefined,
    reasonText: partOf(closure, 'reasonText')?.valueString,
    closedAt: partOf(closure, 'closedAt')?.valueDateTime ?? '?',
    closedBy: partyOf(context, partOf(closure, 'closedBy')?.valueReference, plan, where) ?? '?',
    informed: partsOf(closure, 'informed')
      .map((part) => partyOf(context, part.valueReference, plan, where))
      .filter((party) => party !== undefined),
  });
}

/**
 * The inverse of `dischargeExtension` (seed 001 §3.3.2, §3.6.1). Codes are read from the project's
 * own code systems only; a compulsory care coded otherwise is an error rather than dropped, since
 * dropping it would hide that a samordnad vårdplan is prescribed instead of a SIP. The SIP model
 * then judges the codes and that compulsory care follows psychiatric inpatient care.
 */
export function readDischarge(context: ReadContext, plan: IndexedEntry & { resource: CarePlan }): SipPlanInput['discharge'] {
  const discharge = extensionOf(plan.resource, EXTENSION.discharge);
  if (discharge === undefined) return undefined;
  const where = `${plan.path}.extension('${EXTENSION.discharge}')`;
  const from = findOwnCode(INPATIENT_CARE, [partOf(discharge, 'from')?.valueCoding]);
  if (from === undefined) {
    context.issue('error', 'required', `${where}.extension('from')`, `The discharge does not say, as a code of ${codeSystemUrl(INPATIENT_CARE.id)}, which inpatient care the person leaves`);
  }
  const compulsoryCoding = partOf(discharge, 'compulsoryCare')?.valueCoding;
  const compulsoryCare = findOwnCode(COMPULSORY_CARE, [compulsoryCoding]);
  if (compulsoryCoding !== undefined && compulsoryCare === undefined) {
    context.issue('error', 'code-invalid', `${where}.extension('compulsoryCare')`, `The compulsory care is not coded in ${codeSystemUrl(COMPULSORY_CARE.id)} (LPT or LRV)`);
  }
  return definedMembers({
    from: (from ?? '?') as Input<'discharge'>['from'],
    dischargedAt: dateOf(partOf(discharge, 'dischargedAt')?.valueDate),
    compulsoryCare: compulsoryCare as Input<'discharge'>['compulsoryCare'],
  });
}
