/**
 * A SIP → one FHIR `transaction` Bundle (https://hl7.org/fhir/R4/http.html#transaction).
 *
 * Every entry is conditional on a stable business identifier, so posting the same plan twice
 * creates nothing twice:
 * - shared master data (Patient, Organization, Practitioner) is created only if none exists
 *   (`ifNoneExist`), never overwritten, since the person's and the organisations' own records own it;
 * - everything the plan itself owns is a conditional update (`PUT Type?identifier=…`).
 */
import type { Bundle, BundleEntry, FhirResource, Resource } from 'fhir/r4.js';
import { PROFILE_OF_TYPE } from '../profiles/index.js';
import type { OtherActor, Principal, SipPlan, Unit } from '../../sip/index.js';
import { stockholmInstant } from '../../sip/index.js';
import { IDENTIFIER_SYSTEM, PROFILE } from '../canonical.js';
import type { FhirMappingOptions } from '../options.js';
import { DEFAULT_MAPPING_OPTIONS } from '../options.js';
import { approvalKey, toApprovalProvenance, toApprovalTask } from './approval.js';
import { toAppointment, toLocation } from './appointment.js';
import { toCarePlan } from './care-plan.js';
import { toCareTeam } from './care-team.js';
import { toConsent } from './consent.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, KeyRegistry, entityIdentifier, entryFor, newContext } from './context.js';
import { decisionKey, toDecisionServiceRequest } from './decision.js';
import { toDetectedIssue } from './deviation.js';
import { toGoal } from './goal.js';
import { nationalOrganizationIdentifiers, hsaIdentifier, toHealthcareService, toOtherActorOrganization, toPrincipalOrganization, toUnitOrganization } from './organization.js';
import { toQuestionnaireResponse } from './own-account.js';
import { personIdentifier, toPatient } from './patient.js';
import { toPractitioner, toPractitionerRole, toRelatedPerson } from './people.js';

/** Every resource type `planToBundle` writes. */
export const WRITTEN_RESOURCE_TYPES = [
  'Patient',
  'Organization',
  'HealthcareService',
  'Practitioner',
  'PractitionerRole',
  'RelatedPerson',
  'CarePlan',
  'CareTeam',
  'Goal',
  'Consent',
  'Location',
  'Appointment',
  'QuestionnaireResponse',
  'DetectedIssue',
  'ServiceRequest',
  'Task',
  'Provenance',
] as const;

/** Every organisation of the plan: each principal followed by its units, then the other actors. */
export function organizationsOf(plan: SipPlan): (Principal | Unit | OtherActor)[] {
  return [...plan.principals.flatMap((principal) => [principal, ...principal.units]), ...plan.otherActors];
}

/** Organisations invited to any meeting: each needs a HealthcareService to be an Appointment participant. */
export function invitedOrganizations(context: WriteContext): string[] {
  const organizations = new Set<string>();
  for (const meeting of context.plan.meetings) {
    for (const invitee of meeting.summons?.invitees ?? []) {
      const kind = context.index.entities.get(invitee.party)?.kind;
      if (kind === 'principal' || kind === 'unit' || kind === 'otherActor') organizations.add(invitee.party);
    }
  }
  return [...organizations];
}

/** Registers the key of every resource before any is written, so references can point forwards. */
export function registerKeys(plan: SipPlan, keys: KeyRegistry, invited: readonly string[]): void {
  const own = (localId: string) => entityIdentifier(plan, localId);
  keys.register('Patient', INDIVIDUAL, personIdentifier(plan.individual.identifier), { upsert: 'create-if-none-exist' });
  for (const organization of organizationsOf(plan)) {
    keys.register('Organization', organization.id, own(organization.id), {
      preferred: nationalOrganizationIdentifiers(organization),
      upsert: 'create-if-none-exist',
    });
  }
  for (const id of invited) keys.register('HealthcareService', id, own(`${id}.service`), { upsert: 'update' });
  for (const professional of plan.professionals) {
    keys.register('Practitioner', professional.id, own(professional.id), {
      preferred: professional.hsaId === undefined ? [] : [hsaIdentifier(professional.hsaId)],
      upsert: 'create-if-none-exist',
    });
    keys.register('PractitionerRole', professional.id, own(professional.id), { upsert: 'update' });
  }
  for (const person of plan.relatedPersons) keys.register('RelatedPerson', person.id, own(person.id), { upsert: 'update' });
  keys.register('CareTeam', plan.id, own('care-team'), { upsert: 'update' });
  keys.register('CarePlan', plan.id, { system: IDENTIFIER_SYSTEM.sipPlan, value: plan.id }, { upsert: 'update' });
  for (const goal of plan.goals) keys.register('Goal', goal.id, own(goal.id), { upsert: 'update' });
  for (const intervention of plan.interventions) {
    if (intervention.decision !== undefined) keys.register('ServiceRequest', decisionKey(intervention), own(decisionKey(intervention)), { upsert: 'update' });
  }
  for (const consent of plan.consents) keys.register('Consent', consent.id, own(consent.id), { upsert: 'update' });
  for (const meeting of plan.meetings) {
    keys.register('Appointment', meeting.id, own(meeting.id), { upsert: 'update' });
    if (meeting.summons?.location !== undefined) keys.register('Location', meeting.id, own(`${meeting.id}.location`), { upsert: 'update' });
  }
  if (plan.ownAccount !== undefined) keys.register('QuestionnaireResponse', 'own-account', own('own-account'), { upsert: 'update' });
  for (const deviation of plan.deviations) keys.register('DetectedIssue', deviation.id, own(deviation.id), { upsert: 'update' });
  for (const principal of plan.principals) keys.register('Task', principal.id, own(`${principal.id}.approval`), { upsert: 'update' });
  for (const approval of plan.approvals) {
    keys.register('Provenance', approvalKey(approval), own(approvalKey(approval)), { upsert: 'update', byTag: true });
  }
}

/**
 * The resource with `meta.profile` naming its SIP profile (src/fhir/profiles/), when there is one,
 * so a receiver knows what to validate it against (https://hl7.org/fhir/R4/resource.html#Meta).
 */
export function declaringProfile(resource: FhirResource): FhirResource {
  const profile = PROFILE_OF_TYPE[resource.resourceType];
  if (profile === undefined) return resource;
  const { resourceType, meta, ...rest } = resource;
  return { resourceType, meta: { ...meta, profile: [profile] }, ...rest } as FhirResource;
}

/**
 * Maps a SIP plan to a transaction Bundle. The plan must already be valid (parsed by the SIP schema,
 * with every reference declared); the result depends on nothing but the plan, the options and `at`.
 *
 * `at` is when the Bundle is sent, by default when the plan version was recorded. It becomes
 * `Bundle.timestamp`, and each Consent's status is judged at it: nothing of a SIP may leave without a
 * consent in force at the moment it leaves (seed 001 §4.2), which the SIP Bundle profile checks
 * against that timestamp.
 */
export function planToBundle(plan: SipPlan, options: FhirMappingOptions = DEFAULT_MAPPING_OPTIONS, at: Date = new Date(plan.updatedAt)): Bundle {
  const keys = new KeyRegistry();
  const context = newContext(plan, options, keys, at);
  const invited = invitedOrganizations(context);
  registerKeys(plan, keys, invited);
  const entry = (resourceType: Resource['resourceType'], localId: string, resource: FhirResource): BundleEntry =>
    entryFor(keys.get(resourceType, localId), declaringProfile(resource));
  const entries: BundleEntry[] = [
    entry('Patient', INDIVIDUAL, toPatient(context)),
    ...plan.principals.flatMap((principal) => [
      entry('Organization', principal.id, toPrincipalOrganization(context, principal)),
      ...principal.units.map((unit) => entry('Organization', unit.id, toUnitOrganization(context, principal, unit))),
    ]),
    ...plan.otherActors.map((actor) => entry('Organization', actor.id, toOtherActorOrganization(context, actor))),
    ...invited.map((id) => {
      const organization = organizationsOf(plan).find((candidate) => candidate.id === id);
      return entry('HealthcareService', id, toHealthcareService(context, id, organization?.name ?? id));
    }),
    ...plan.professionals.flatMap((professional) => [
      entry('Practitioner', professional.id, toPractitioner(context, professional)),
      entry('PractitionerRole', professional.id, toPractitionerRole(context, professional)),
    ]),
    ...plan.relatedPersons.map((person) => entry('RelatedPerson', person.id, toRelatedPerson(context, person))),
    entry('CarePlan', plan.id, toCarePlan(context)),
    entry('CareTeam', plan.id, toCareTeam(context)),
    ...plan.goals.map((goal) => entry('Goal', goal.id, toGoal(context, goal))),
    ...plan.interventions.flatMap((intervention) =>
      intervention.decision === undefined ? [] : [entry('ServiceRequest', decisionKey(intervention), toDecisionServiceRequest(context, intervention, intervention.decision))],
    ),
    ...plan.consents.map((consent) => entry('Consent', consent.id, toConsent(context, consent))),
    ...plan.meetings.flatMap((meeting) => [
      ...(meeting.summons?.location === undefined ? [] : [entry('Location', meeting.id, toLocation(context, meeting, meeting.summons.location))]),
      entry('Appointment', meeting.id, toAppointment(context, meeting)),
    ]),
    ...(plan.ownAccount === undefined ? [] : [entry('QuestionnaireResponse', 'own-account', toQuestionnaireResponse(context, plan.ownAccount))]),
    ...plan.deviations.map((deviation) => entry('DetectedIssue', deviation.id, toDetectedIssue(context, deviation))),
    ...plan.principals.map((principal) => entry('Task', principal.id, toApprovalTask(context, principal))),
    ...plan.approvals.map((approval) => entry('Provenance', approvalKey(approval), toApprovalProvenance(context, approval))),
  ];
  return { resourceType: 'Bundle', meta: { profile: [PROFILE.bundle] }, type: 'transaction', timestamp: stockholmInstant(at), entry: entries };
}
