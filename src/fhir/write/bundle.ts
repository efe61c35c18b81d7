/**
 * A SIP → one FHIR `transaction` Bundle (https://hl7.org/fhir/R4/http.html#transaction): the keys of
 * every resource and what they rest on; the list of entries and `planToBundle` itself are in
 * plan-entries.ts, so a resource can also be mapped alone.
 *
 * Every entry is conditional on a stable business identifier, so posting the same plan twice
 * creates nothing twice:
 * - shared master data (Patient, Organization, Practitioner) is created only if none exists
 *   (`ifNoneExist`), never overwritten, since the person's and the organisations' own records own it;
 * - everything the plan itself owns is a conditional update (`PUT Type?identifier=…`).
 */
import type { FhirResource } from 'fhir/r4.js';
import { PROFILE_OF_TYPE } from '../profiles/index.js';
import type { OtherActor, Principal, SipPlan, Unit } from '../../sip/index.js';
import { IDENTIFIER_SYSTEM } from '../canonical.js';
import { approvalKey } from './approval.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, KeyRegistry, entityIdentifier } from './context.js';
import { decisionKey } from './decision.js';
import { nationalOrganizationIdentifiers, hsaIdentifier } from './organization.js';
import { personIdentifier } from './patient.js';

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
 * The resource with `meta.profile` naming its SIP profile (profiles/input/fsh/), when there is one,
 * so a receiver knows what to validate it against (https://hl7.org/fhir/R4/resource.html#Meta).
 */
export function declaringProfile(resource: FhirResource): FhirResource {
  const profile = PROFILE_OF_TYPE[resource.resourceType];
  if (profile === undefined) return resource;
  const { resourceType, meta, ...rest } = resource;
  return { resourceType, meta: { ...meta, profile: [profile] }, ...rest } as FhirResource;
}

