/**
 * The SIP → FHIR R4 mapping as data: one row per SIP field, with the FHIR element it becomes and a
 * FHIRPath over the transaction Bundle that finds it. The README's mapping table is rendered from
 * these rows (`npm run docs:mapping`), and a test evaluates every expression on the examples'
 * Bundles and checks that every field the examples use has a row, so the table cannot drift.
 *
 * SIP paths use `[]` for "each element of the array", e.g. `consents[].givenAt`. A path in
 * parentheses is no field of the plan but an input of the mapping itself, such as the send instant;
 * its row must find a value in every Bundle.
 */
import { EXTENSION } from './canonical.js';

export interface MappingRow {
  readonly sip: string;
  /** The FHIR element, as a person reads it. */
  readonly fhir: string;
  /** FHIRPath over the Bundle that yields a value whenever the SIP field has one. */
  readonly expression: string;
  readonly note?: string;
}

const r = (type: string) => `Bundle.entry.resource.ofType(${type})`;
const ext = (type: string, url: string) => `${r(type)}.extension('${url}')`;
const short = (url: string) => url.slice(url.lastIndexOf('/') + 1);

export const MAPPING_TABLE: readonly MappingRow[] = [
  { sip: 'id', fhir: 'CarePlan.identifier (sid/sip-plan)', expression: `${r('CarePlan')}.identifier` },
  { sip: 'version', fhir: `CarePlan.extension:${short(EXTENSION.planVersion)}`, expression: ext('CarePlan', EXTENSION.planVersion) },
  { sip: 'updatedAt', fhir: `CarePlan.extension:${short(EXTENSION.planRecorded)}`, expression: ext('CarePlan', EXTENSION.planRecorded), note: 'meta.lastUpdated belongs to the server' },
  {
    sip: '(sent at)',
    fhir: 'Bundle.timestamp, with the Europe/Stockholm offset (+01:00, summer +02:00): planToBundle(plan, options, at)',
    expression: 'Bundle.timestamp',
    note: 'at defaults to updatedAt; each Consent.status is judged at it, and the SIP Bundle requires a consent in force then (sip-bdl-6..8)',
  },
  { sip: 'initiatedAt', fhir: 'CarePlan.period.start', expression: `${r('CarePlan')}.period.start` },
  { sip: 'initiatedBy', fhir: `CarePlan.extension:${short(EXTENSION.initiatedBy)}`, expression: ext('CarePlan', EXTENSION.initiatedBy) },
  { sip: 'discharge', fhir: `CarePlan.extension:${short(EXTENSION.discharge)}`, expression: ext('CarePlan', EXTENSION.discharge), note: 'a plan made at discharge from inpatient care (lag 2017:612)' },
  { sip: 'discharge.from', fhir: `CarePlan.extension:${short(EXTENSION.discharge)}.from (sip-inpatient-care)`, expression: `${ext('CarePlan', EXTENSION.discharge)}.extension('from')` },
  { sip: 'discharge.dischargedAt', fhir: `CarePlan.extension:${short(EXTENSION.discharge)}.dischargedAt`, expression: `${ext('CarePlan', EXTENSION.discharge)}.extension('dischargedAt')` },
  {
    sip: 'discharge.compulsoryCare',
    fhir: `CarePlan.extension:${short(EXTENSION.discharge)}.compulsoryCare (sip-compulsory-care: LPT / LRV)`,
    expression: `${ext('CarePlan', EXTENSION.discharge)}.extension('compulsoryCare')`,
    note: 'sip-cpl-7 warns: a samordnad vårdplan is prescribed instead',
  },
  { sip: 'individual.identifier', fhir: 'Patient.identifier (HL7 Sweden personnummer / samordningsnummer; reservnummer under its issuer)', expression: `${r('Patient')}.identifier` },
  { sip: 'individual.name', fhir: 'Patient.name', expression: `${r('Patient')}.name` },
  { sip: 'individual.birthDate', fhir: 'Patient.birthDate', expression: `${r('Patient')}.birthDate`, note: 'also filled in from the identity number' },
  {
    sip: 'individual.contact',
    fhir: `CareTeam.participant (the person).extension:${short(EXTENSION.planParty)} (telecom, address)`,
    expression: `${r('CareTeam')}.participant.where(role.coding.where(code = 'individual').exists()).extension('${EXTENSION.planParty}').extension.where(url = 'telecom' or url = 'address')`,
    note: 'never written for protected identity; never on the shared Patient',
  },
  { sip: 'individual.protectedIdentity', fhir: 'Patient.meta.security (HL7 Sweden SecurityLabel + v3 DEMO)', expression: `${r('Patient')}.meta.security`, note: '"none" writes nothing' },
  {
    sip: 'individual.canConsent',
    fhir: `CareTeam.participant (the person).extension:${short(EXTENSION.canConsent)}`,
    expression: `${r('CareTeam')}.participant.extension('${EXTENSION.canConsent}')`,
    note: 'written only when false',
  },
  { sip: 'individual.language', fhir: 'Patient.communication.language (BCP 47)', expression: `${r('Patient')}.communication.language` },
  { sip: 'relatedPersons[]', fhir: 'RelatedPerson (identifier, name, telecom, address)', expression: r('RelatedPerson') },
  { sip: 'relatedPersons[].kind', fhir: 'RelatedPerson.relationship (sip-related-person-role, v3 GUARD / POWATT)', expression: `${r('RelatedPerson')}.relationship` },
  { sip: 'relatedPersons[].relationship', fhir: 'RelatedPerson.relationship.text', expression: `${r('RelatedPerson')}.relationship.text` },
  { sip: 'relatedPersons[].representativeKind', fhir: 'RelatedPerson.relationship (sip-related-person-role)', expression: `${r('RelatedPerson')}.relationship.coding` },
  { sip: 'ownAccount', fhir: 'QuestionnaireResponse to Questionnaire/sip-request, in CarePlan.supportingInfo', expression: `${r('QuestionnaireResponse')}.item` },
  { sip: 'ownAccount.submittedAt', fhir: 'QuestionnaireResponse.authored', expression: `${r('QuestionnaireResponse')}.authored` },
  { sip: 'principals[]', fhir: 'Organization, type region / municipality (sip-organization-type)', expression: `${r('Organization')}.type` },
  { sip: 'principals[].hsaId', fhir: 'Organization.identifier urn:oid:1.2.752.29.4.19', expression: `${r('Organization')}.identifier.where(system = 'urn:oid:1.2.752.29.4.19')` },
  { sip: 'principals[].organisationsnummer', fhir: 'Organization.identifier urn:oid:2.5.4.97', expression: `${r('Organization')}.identifier.where(system = 'urn:oid:2.5.4.97')` },
  { sip: 'principals[].municipalityCode', fhir: 'Organization.identifier urn:oid:1.2.752.129.2.2.1.17', expression: `${r('Organization')}.identifier.where(system = 'urn:oid:1.2.752.129.2.2.1.17')` },
  { sip: 'principals[].countyCode', fhir: 'Organization.identifier urn:oid:1.2.752.129.2.2.1.18', expression: `${r('Organization')}.identifier.where(system = 'urn:oid:1.2.752.129.2.2.1.18')` },
  { sip: 'principals[].units[]', fhir: 'Organization, type unit, partOf the principal; a CareTeam participant with role unit', expression: `${r('Organization')}.partOf` },
  { sip: 'otherActors[]', fhir: 'Organization, type = the actor kind (sip-organization-type)', expression: `${r('Organization')}.type.coding.where(code != 'region' and code != 'municipality' and code != 'unit')` },
  { sip: 'professionals[]', fhir: 'Practitioner (name, HSA-id) + PractitionerRole (organization, code.text = title, telecom)', expression: r('PractitionerRole') },
  {
    sip: '(local ids and contact details of parties)',
    fhir: `CareTeam.participant.extension:${short(EXTENSION.planParty)} (localId = sid/sip-entity <plan id>/<local id>, telecom, address), in plan order`,
    expression: `${r('CareTeam')}.participant.extension('${EXTENSION.planParty}').extension('localId')`,
    note: 'plan-specific, so never on a shared Patient, Organization or Practitioner',
  },
  { sip: 'coordinator', fhir: 'CareTeam.participant.role = coordinator', expression: `${r('CareTeam')}.participant.role.coding.where(code = 'coordinator')` },
  { sip: 'consents[]', fhir: 'Consent, scope patient-privacy, category sip-consent + LOINC 59284-0, policyRule v3 OPTINR', expression: r('Consent') },
  { sip: 'consents[].planId', fhir: 'Consent.provision.data (meaning related) → the CarePlan', expression: `${r('Consent')}.provision.data.reference` },
  { sip: 'consents[].givers', fhir: 'Consent.performer', expression: `${r('Consent')}.performer` },
  { sip: 'consents[].form', fhir: `Consent.extension:${short(EXTENSION.consentRecording)}.form`, expression: `${ext('Consent', EXTENSION.consentRecording)}.extension('form')`, note: 'oral/other also as Consent.verification' },
  { sip: 'consents[].documentedBy', fhir: `Consent.extension:${short(EXTENSION.consentRecording)}.documentedBy`, expression: `${ext('Consent', EXTENSION.consentRecording)}.extension('documentedBy')` },
  { sip: 'consents[].documentedIn', fhir: `Consent.extension:${short(EXTENSION.consentRecording)}.documentedIn`, expression: `${ext('Consent', EXTENSION.consentRecording)}.extension('documentedIn')` },
  { sip: 'consents[].givenAt', fhir: 'Consent.dateTime, Consent.provision.period.start', expression: `${r('Consent')}.provision.period.start` },
  { sip: 'consents[].validUntil', fhir: 'Consent.provision.period.end', expression: `${r('Consent')}.provision.period.end`, note: 'R4 has no Consent.period' },
  { sip: 'consents[].coveredActors', fhir: 'Consent.provision.actor (role v3 IRCP)', expression: `${r('Consent')}.provision.actor` },
  { sip: 'consents[].excludedInformation', fhir: 'Consent.provision.provision (type deny).code (sip-information-class + v3 PSY/ETH/SEX/GDIS)', expression: `${r('Consent')}.provision.provision.code` },
  { sip: 'consents[].excludedParties', fhir: 'Consent.provision.provision (type deny).actor', expression: `${r('Consent')}.provision.provision.actor` },
  { sip: 'consents[].childView', fhir: `Consent.extension:${short(EXTENSION.childView)} (view, notAskedReason)`, expression: ext('Consent', EXTENSION.childView), note: 'for a child' },
  { sip: 'consents[].withdrawal', fhir: `Consent.extension:${short(EXTENSION.consentWithdrawal)}; Consent.status inactive`, expression: ext('Consent', EXTENSION.consentWithdrawal) },
  { sip: 'meetings[]', fhir: 'Appointment, serviceType sip-meeting, supportingInformation → CarePlan', expression: r('Appointment') },
  { sip: 'meetings[].kind', fhir: 'Appointment.appointmentType (sip-meeting-kind, v2 FOLLOWUP)', expression: `${r('Appointment')}.appointmentType` },
  { sip: 'meetings[].status', fhir: 'Appointment.status: proposed / booked / fulfilled / cancelled', expression: `${r('Appointment')}.status` },
  { sip: 'meetings[].summons.sentAt', fhir: 'Appointment.created', expression: `${r('Appointment')}.created` },
  { sip: 'meetings[].summons.sentBy', fhir: `Appointment.extension:${short(EXTENSION.convener)}`, expression: ext('Appointment', EXTENSION.convener) },
  { sip: 'meetings[].summons.start', fhir: 'Appointment.start', expression: `${r('Appointment')}.start` },
  { sip: 'meetings[].summons.end', fhir: 'Appointment.end', expression: `${r('Appointment')}.end` },
  { sip: 'meetings[].summons.location', fhir: 'Appointment.participant.actor → Location.name', expression: `${r('Location')}.name`, note: 'a neutral text for protected identity' },
  { sip: 'meetings[].summons.digitalMeetingUrl', fhir: 'Appointment.extension:R5 virtualService.address', expression: `${ext('Appointment', EXTENSION.virtualService)}.extension('address')` },
  { sip: 'meetings[].summons.agenda', fhir: 'Appointment.description', expression: `${r('Appointment')}.description` },
  { sip: 'meetings[].summons.invitees', fhir: 'Appointment.participant (actor, required, status = answer); organisations as HealthcareService', expression: `${r('Appointment')}.participant.actor` },
  { sip: 'meetings[].summons.invitees[].respondedAt', fhir: `Appointment.participant.extension:${short(EXTENSION.respondedAt)}`, expression: `${r('Appointment')}.participant.extension('${EXTENSION.respondedAt}')` },
  { sip: 'meetings[].summons.invitees[].substitute', fhir: `Appointment.participant.extension:${short(EXTENSION.substitute)}`, expression: `${r('Appointment')}.participant.extension('${EXTENSION.substitute}')` },
  { sip: 'meetings[].summons.interpreter', fhir: `Appointment.extension:${short(EXTENSION.interpreter)}; Appointment.comment in Swedish`, expression: ext('Appointment', EXTENSION.interpreter) },
  { sip: 'meetings[].summons.otherNeeds', fhir: `Appointment.extension:${short(EXTENSION.otherNeeds)}; Appointment.comment in Swedish`, expression: ext('Appointment', EXTENSION.otherNeeds) },
  { sip: 'meetings[].summons.contact', fhir: `Appointment.extension:${short(EXTENSION.convenerContact)}`, expression: ext('Appointment', EXTENSION.convenerContact) },
  { sip: 'meetings[].meetingLeader', fhir: `Appointment.extension:${short(EXTENSION.meetingRole)} (role meetingLeader); participant.type`, expression: `${ext('Appointment', EXTENSION.meetingRole)}.extension('role').value.where(code = 'meetingLeader')` },
  { sip: 'meetings[].secretary', fhir: `Appointment.extension:${short(EXTENSION.meetingRole)} (role secretary); participant.type`, expression: `${ext('Appointment', EXTENSION.meetingRole)}.extension('role').value.where(code = 'secretary')` },
  { sip: 'meetings[].contactPersonAfterMeeting', fhir: `Appointment.extension:${short(EXTENSION.meetingRole)} (role contactPersonAfterMeeting)`, expression: `${ext('Appointment', EXTENSION.meetingRole)}.extension('role').value.where(code = 'contactPersonAfterMeeting')` },
  { sip: 'meetings[].notes', fhir: 'Appointment.extension:R5 note', expression: ext('Appointment', EXTENSION.appointmentNote) },
  { sip: 'goals[]', fhir: 'Goal, in CarePlan.goal; description.text, subject', expression: `${r('Goal')}.description.text` },
  { sip: 'goals[].expressedBy', fhir: 'Goal.expressedBy', expression: `${r('Goal')}.expressedBy` },
  { sip: 'goals[].status', fhir: 'Goal.lifecycleStatus + achievementStatus', expression: `${r('Goal')}.lifecycleStatus` },
  { sip: 'goals[].targetDate', fhir: 'Goal.target.dueDate', expression: `${r('Goal')}.target.due` },
  { sip: 'goals[].setAt', fhir: `Goal.extension:${short(EXTENSION.goalSetAt)}`, expression: ext('Goal', EXTENSION.goalSetAt) },
  { sip: 'goals[].replaces', fhir: 'goal-relationship (type replacement) on the replaced Goal', expression: ext('Goal', EXTENSION.goalRelationship) },
  {
    sip: 'goals[].informationClasses',
    fhir: `Goal.extension:${short(EXTENSION.informationClass)} (sip-information-class), one per class`,
    expression: ext('Goal', EXTENSION.informationClass),
    note: 'a consent that excludes the class removes the goal before sending',
  },
  { sip: 'interventions[]', fhir: 'CarePlan.activity.detail (activity.id = intervention id), description', expression: `${r('CarePlan')}.activity.detail.description` },
  { sip: 'interventions[].responsible', fhir: 'CarePlan.activity.detail.performer[0]', expression: `${r('CarePlan')}.activity.detail.performer` },
  { sip: 'interventions[].performer', fhir: 'CarePlan.activity.detail.performer[1]', expression: `${r('CarePlan')}.activity.detail.where(performer.count() > 1)` },
  { sip: 'interventions[].goals', fhir: 'CarePlan.activity.detail.goal', expression: `${r('CarePlan')}.activity.detail.goal` },
  {
    sip: 'interventions[].informationClasses',
    fhir: `CarePlan.activity.extension:${short(EXTENSION.informationClass)} (sip-information-class), one per class`,
    expression: `${r('CarePlan')}.activity.extension('${EXTENSION.informationClass}')`,
    note: 'on the activity, not its detail: a consent that excludes the class removes the intervention with its decision',
  },
  { sip: 'interventions[].status', fhir: 'CarePlan.activity.detail.status (awaitingDecision = on-hold + statusReason)', expression: `${r('CarePlan')}.activity.detail.status` },
  { sip: 'interventions[].start', fhir: 'activity.detail.scheduledPeriod.start or scheduledTiming.repeat.boundsPeriod.start', expression: `${r('CarePlan')}.activity.detail.select(scheduled.start | scheduled.repeat.bounds.start)` },
  { sip: 'interventions[].end', fhir: 'activity.detail.scheduledPeriod.end or scheduledTiming.repeat.boundsPeriod.end', expression: `${r('CarePlan')}.activity.detail.select(scheduled.end | scheduled.repeat.bounds.end)` },
  { sip: 'interventions[].schedule', fhir: 'activity.detail.scheduledTiming.code.text', expression: `${r('CarePlan')}.activity.detail.scheduled.code.text` },
  { sip: 'interventions[].pendingDecision', fhir: `activity.detail.extension:${short(EXTENSION.pendingDecision)}`, expression: `${r('CarePlan')}.activity.detail.extension('${EXTENSION.pendingDecision}')` },
  { sip: 'interventions[].decision', fhir: `ServiceRequest (intent order, category sip-decision, basedOn → CarePlan), linked by activity.detail.extension:${short(EXTENSION.decision)}`, expression: `${r('CarePlan')}.activity.detail.extension('${EXTENSION.decision}')` },
  { sip: 'interventions[].decision.concerns', fhir: 'ServiceRequest.code (the municipality\'s own system and code; text)', expression: `${r('ServiceRequest')}.code.text`, note: 'KSI has no national URI: the system is configuration' },
  { sip: 'interventions[].decision.statute', fhir: `ServiceRequest.extension:${short(EXTENSION.statute)} (act, chapter, section, point)`, expression: ext('ServiceRequest', EXTENSION.statute) },
  { sip: 'interventions[].decision.outcome', fhir: 'ServiceRequest.doNotPerform (true = refused)', expression: `${r('ServiceRequest')}.select(iif(doNotPerform = true, 'refused', 'granted'))`, note: 'granted leaves doNotPerform out' },
  { sip: 'interventions[].decision.status', fhir: 'ServiceRequest.status (inForce = active, overturned = revoked)', expression: `${r('ServiceRequest')}.status` },
  { sip: 'interventions[].decision.reasoning', fhir: 'ServiceRequest.reasonCode.text', expression: `${r('ServiceRequest')}.reasonCode.text` },
  { sip: 'interventions[].decision.decidedAt', fhir: 'ServiceRequest.authoredOn', expression: `${r('ServiceRequest')}.authoredOn` },
  { sip: 'interventions[].decision.decidedBy', fhir: 'ServiceRequest.requester', expression: `${r('ServiceRequest')}.requester` },
  { sip: 'interventions[].decision.scope', fhir: 'ServiceRequest.orderDetail.text; quantityRatio (h per wk or mo, UCUM)', expression: `${r('ServiceRequest')}.select(orderDetail.text | quantity.numerator.value)` },
  { sip: 'interventions[].decision.validFrom, validTo', fhir: 'ServiceRequest.occurrencePeriod', expression: `${r('ServiceRequest')}.occurrence` },
  { sip: 'interventions[].decision.provider', fhir: 'ServiceRequest.performer', expression: `${r('ServiceRequest')}.performer` },
  { sip: 'noActionsByOthers', fhir: `CarePlan.extension:${short(EXTENSION.noActionsByOthers)}`, expression: ext('CarePlan', EXTENSION.noActionsByOthers), note: 'written only when true' },
  { sip: 'overallResponsiblePrincipal', fhir: 'CarePlan.author; CareTeam.managingOrganization', expression: `${r('CarePlan')}.author` },
  { sip: 'followUps[]', fhir: `CarePlan.extension:${short(EXTENSION.followUp)} (date, heldAt → Appointment)`, expression: ext('CarePlan', EXTENSION.followUp) },
  { sip: 'approvals[]', fhir: 'Provenance (agent verifier, who, onBehalfOf = principal, recorded); Task approve per principal', expression: `${r('Provenance')}.agent.onBehalfOf` },
  { sip: 'approvals[].version', fhir: `Provenance.extension:${short(EXTENSION.planVersion)}`, expression: ext('Provenance', EXTENSION.planVersion) },
  { sip: 'approvals[].digest', fhir: `Provenance.extension:${short(EXTENSION.approvalDigest)}`, expression: ext('Provenance', EXTENSION.approvalDigest), note: 'sha256 of the RFC 8785 JSON of the approved part' },
  { sip: 'approvals[].withdrawn', fhir: `Provenance.extension:${short(EXTENSION.approvalWithdrawal)}`, expression: ext('Provenance', EXTENSION.approvalWithdrawal) },
  { sip: 'closure', fhir: `CarePlan.extension:${short(EXTENSION.closure)}; CarePlan.status completed / revoked; period.end`, expression: ext('CarePlan', EXTENSION.closure) },
  { sip: 'deviations[]', fhir: 'DetectedIssue (code, identified, author or reported-by, implicated, detail, mitigation), in CarePlan.supportingInfo', expression: `${r('DetectedIssue')}.detail` },
  { sip: 'deviations[].interimResponsiblePrincipal', fhir: `DetectedIssue.extension:${short(EXTENSION.interimResponsiblePrincipal)}`, expression: ext('DetectedIssue', EXTENSION.interimResponsiblePrincipal) },
  {
    sip: 'deviations[].informationClasses',
    fhir: `DetectedIssue.extension:${short(EXTENSION.informationClass)} (sip-information-class), one per class`,
    expression: ext('DetectedIssue', EXTENSION.informationClass),
    note: 'a consent that excludes the class removes the deviation before sending',
  },
  { sip: 'notes', fhir: 'CarePlan.note', expression: `${r('CarePlan')}.note.text` },
];

/** The table as Markdown, for the README. */
export function renderMappingTable(): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| SIP field | FHIR R4 | note |',
    '|---|---|---|',
    ...MAPPING_TABLE.map((row) => `| \`${row.sip}\` | ${escape(row.fhir)} | ${escape(row.note ?? '')} |`),
  ].join('\n');
}
