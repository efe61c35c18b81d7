/**
 * The entries of a plan's Bundle one at a time: each resource is mapped only when it is asked for.
 *
 * `GET /fhir/{type}/{id}` answers one resource, and a CarePlan search without `_include` one per
 * plan, yet mapping the whole plan (`planToBundle`) was a fifth of a FHIR read's time (issue #11,
 * docs/performance.md). The keys of every resource — its business identifier and `urn:uuid`
 * fullUrl, which give the facade's id and every reference — are registered up front exactly as
 * `planToBundle` does (cheap, and references may point to any resource); the mapping of each resource
 * waits until {@link PlanEntry.entry} is called.
 *
 * The list holds the same entries in the same order as `planToBundle(plan, options, at).entry`, and
 * each entry mapped alone equals that Bundle's entry (test/fhir/plan-entries.test.ts, over every
 * example and the property-based plans). `planToBundle` is this list with every entry mapped, so
 * there is one list of what a plan becomes.
 */
import type { Bundle, BundleEntry, FhirResource, Resource } from 'fhir/r4.js';
import { stockholmInstant, type SipPlan } from '../../sip/index.js';
import { PROFILE } from '../canonical.js';
import type { FhirMappingOptions } from '../options.js';
import { DEFAULT_MAPPING_OPTIONS } from '../options.js';
import { approvalKey, toApprovalProvenance, toApprovalTask } from './approval.js';
import { toAppointment, toLocation } from './appointment.js';
import { declaringProfile, invitedOrganizations, organizationsOf, registerKeys } from './bundle.js';
import { toCarePlan } from './care-plan.js';
import { toCareTeam } from './care-team.js';
import { toConsent } from './consent.js';
import type { ResourceKey } from './context.js';
import { INDIVIDUAL, KeyRegistry, entryFor, newContext, type WriteContext } from './context.js';
import { toDecisionServiceRequest, decisionKey } from './decision.js';
import { toDetectedIssue } from './deviation.js';
import { toGoal } from './goal.js';
import { toHealthcareService, toOtherActorOrganization, toPrincipalOrganization, toUnitOrganization } from './organization.js';
import { toQuestionnaireResponse } from './own-account.js';
import { toPatient } from './patient.js';
import { toPractitioner, toPractitionerRole, toRelatedPerson } from './people.js';

/** One entry of the plan's Bundle: its type and key known at once, its resource mapped on demand. */
export interface PlanEntry {
  readonly resourceType: Resource['resourceType'];
  /** The business identifier and `urn:uuid` fullUrl the resource is written under. */
  readonly key: ResourceKey;
  /** The Bundle entry as `planToBundle` writes it, mapped on the first call and kept. */
  entry(): BundleEntry;
  /**
   * The resource as the FHIR facade serves it, before its id and the version's meta: the same as
   * `entry().resource` but that its references to the plan's resources are the facade's `Type/id`
   * instead of fullUrls (`ReferenceForm` `relative`, src/fhir/write/context.ts). Mapped on the first
   * call and kept, apart from {@link entry}: which of the two a reader asks for is what gets mapped.
   */
  facadeResource(): FhirResource;
}

/**
 * The entries of `planToBundle(plan, options, at)`, in its order, each mapped only when asked for.
 * As for `planToBundle`, the plan must be valid, and `at` is the moment the data is sent.
 */
export function planEntries(plan: SipPlan, options: FhirMappingOptions = DEFAULT_MAPPING_OPTIONS, at: Date = new Date(plan.updatedAt)): PlanEntry[] {
  const keys = new KeyRegistry();
  const bundleContext = newContext(plan, options, keys, at);
  let facadeContext: WriteContext | undefined;
  const invited = invitedOrganizations(bundleContext);
  registerKeys(plan, keys, invited);
  const lazy = (resourceType: Resource['resourceType'], localId: string, map: (context: WriteContext) => FhirResource): PlanEntry => {
    const key = keys.get(resourceType, localId);
    let mapped: BundleEntry | undefined;
    let facade: FhirResource | undefined;
    return {
      resourceType,
      key,
      entry: () => (mapped ??= entryFor(key, declaringProfile(map(bundleContext)))),
      facadeResource: () => (facade ??= declaringProfile(map((facadeContext ??= { ...bundleContext, references: 'relative' })))),
    };
  };
  const { ownAccount } = plan;
  return [
    lazy('Patient', INDIVIDUAL, (context) => toPatient(context)),
    ...plan.principals.flatMap((principal) => [
      lazy('Organization', principal.id, (context) => toPrincipalOrganization(context, principal)),
      ...principal.units.map((unit) => lazy('Organization', unit.id, (context) => toUnitOrganization(context, principal, unit))),
    ]),
    ...plan.otherActors.map((actor) => lazy('Organization', actor.id, (context) => toOtherActorOrganization(context, actor))),
    ...invited.map((id) =>
      lazy('HealthcareService', id, (context) => toHealthcareService(context, id, organizationsOf(plan).find((candidate) => candidate.id === id)?.name ?? id)),
    ),
    ...plan.professionals.flatMap((professional) => [
      lazy('Practitioner', professional.id, (context) => toPractitioner(context, professional)),
      lazy('PractitionerRole', professional.id, (context) => toPractitionerRole(context, professional)),
    ]),
    ...plan.relatedPersons.map((person) => lazy('RelatedPerson', person.id, (context) => toRelatedPerson(context, person))),
    lazy('CarePlan', plan.id, (context) => toCarePlan(context)),
    lazy('CareTeam', plan.id, (context) => toCareTeam(context)),
    ...plan.goals.map((goal) => lazy('Goal', goal.id, (context) => toGoal(context, goal))),
    ...plan.interventions.flatMap((intervention) => {
      const { decision } = intervention;
      return decision === undefined ? [] : [lazy('ServiceRequest', decisionKey(intervention), (context) => toDecisionServiceRequest(context, intervention, decision))];
    }),
    ...plan.consents.map((consent) => lazy('Consent', consent.id, (context) => toConsent(context, consent))),
    ...plan.meetings.flatMap((meeting) => {
      const location = meeting.summons?.location;
      return [
        ...(location === undefined ? [] : [lazy('Location', meeting.id, (context) => toLocation(context, meeting, location))]),
        lazy('Appointment', meeting.id, (context) => toAppointment(context, meeting)),
      ];
    }),
    ...(ownAccount === undefined ? [] : [lazy('QuestionnaireResponse', 'own-account', (context) => toQuestionnaireResponse(context, ownAccount))]),
    ...plan.deviations.map((deviation) => lazy('DetectedIssue', deviation.id, (context) => toDetectedIssue(context, deviation))),
    ...plan.principals.map((principal) => lazy('Task', principal.id, (context) => toApprovalTask(context, principal))),
    ...plan.approvals.map((approval) => lazy('Provenance', approvalKey(approval), (context) => toApprovalProvenance(context, approval))),
  ];
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
  const entries = planEntries(plan, options, at).map((planEntry) => planEntry.entry());
  return { resourceType: 'Bundle', meta: { profile: [PROFILE.bundle] }, type: 'transaction', timestamp: stockholmInstant(at), entry: entries };
}
