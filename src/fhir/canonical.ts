/**
 * Every URI the FHIR mapping writes or reads: the project's canonical base with its code systems,
 * extensions and identifier systems, and the national and HL7 systems it uses.
 *
 * The project's own artefacts live under one canonical base, {@link CANONICAL_BASE}. No national
 * body publishes SIP profiles yet (2026); when one does, change this constant, `canonical` in
 * `profiles/sushi-config.yaml` and the URLs in the FSH invariants' expressions, and rebuild
 * `profiles/` (`npm run profiles:build`); test/fhir/code-systems.test.ts checks they agree.
 */

/** Canonical base of the project's own CodeSystems, extensions, profiles and identifier systems. */
export const CANONICAL_BASE = 'http://sip-fhir-adapter.se/fhir';

/** Version of the project's own artefacts in `profiles/`. */
export const ARTEFACT_VERSION = '0.1.0';

/** URL of one of the project's own CodeSystems. */
export function codeSystemUrl(id: string): string {
  return `${CANONICAL_BASE}/CodeSystem/${id}`;
}

/** URL of one of the project's own extensions. */
function extensionUrl(id: string): string {
  return `${CANONICAL_BASE}/StructureDefinition/${id}`;
}

/**
 * Identifier systems.
 *
 * The person's numbers use HL7 Sweden's systems (basprofiler-r4, `input/fsh/`); organisation and
 * catalogue identifiers use their registered OIDs.
 */
export const IDENTIFIER_SYSTEM = {
  /** Skatteverket's personnummer (HL7 Sweden, SEBasePatient). */
  personnummer: 'http://electronichealth.se/identifier/personnummer',
  /** Skatteverket's samordningsnummer (HL7 Sweden, SEBasePatient). */
  samordningsnummer: 'http://electronichealth.se/identifier/samordningsnummer',
  /** Nationellt reservnummer (HL7 Sweden, SEBasePatient); a local reservnummer keeps its issuer's system. */
  nationalReservnummer: 'http://electronichealth.se/identifier/nationelltReservnummer',
  /** HSA-id of people and units in Inera's HSA catalogue. */
  hsaId: 'urn:oid:1.2.752.29.4.19',
  /** HSA-id as RIV-TA service contracts write it; read as a synonym of {@link IDENTIFIER_SYSTEM.hsaId}. */
  hsaIdRivta: 'urn:oid:1.2.752.129.2.1.4.1',
  /** Organisationsnummer (Bolagsverket/Skatteverket), the OID for organisation identifiers (ISO/IEC 9594-6). */
  organisationsnummer: 'urn:oid:2.5.4.97',
  /** SCB's four-digit kommunkod. */
  municipalityCode: 'urn:oid:1.2.752.129.2.2.1.17',
  /** SCB's two-digit länskod. */
  countyCode: 'urn:oid:1.2.752.129.2.2.1.18',
  /** The plan's own id in the adapter. */
  sipPlan: `${CANONICAL_BASE}/sid/sip-plan`,
  /**
   * Anything else the plan names (a goal, a meeting, a professional …): value `<plan id>/<local id>`,
   * so the same plan sent twice updates the same resources and two plans never collide.
   */
  sipEntity: `${CANONICAL_BASE}/sid/sip-entity`,
} as const;

/** Code systems of HL7 and other publishers that the mapping uses. */
export const HL7_SYSTEM = {
  /** HL7 Sweden's security labels for protected identity (basprofiler-r4, `sekretess.fsh`). */
  seSecurityLabel: 'http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel',
  v2IdentifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  goalRelationshipType: 'http://terminology.hl7.org/CodeSystem/goal-relationship-type',
  v3RoleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  v3ActCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  v3Confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  v3ParticipationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  v2AppointmentReason: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  taskCode: 'http://hl7.org/fhir/CodeSystem/task-code',
  provenanceParticipantType: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  goalAchievement: 'http://terminology.hl7.org/CodeSystem/goal-achievement',
  loinc: 'http://loinc.org',
  /** UCUM units (https://hl7.org/fhir/R4/datatypes.html#Quantity): the hours of a decision's scope. */
  ucum: 'http://unitsofmeasure.org',
  bcp47: 'urn:ietf:bcp:47',
} as const;

/**
 * Extensions. The project's own are documented in `profiles/` and in docs/mapping.md; the two
 * `5.0` ones are HL7's cross-version extensions that carry R5 Appointment elements into R4
 * (https://hl7.org/fhir/R5/versions.html#extensions).
 */
export const EXTENSION = {
  planVersion: extensionUrl('plan-version'),
  planRecorded: extensionUrl('plan-recorded'),
  initiatedBy: extensionUrl('initiated-by'),
  followUp: extensionUrl('follow-up'),
  closure: extensionUrl('closure'),
  /** The plan is made at discharge from inpatient care (seed 001 §3.3.2, §3.6.1). */
  discharge: extensionUrl('discharge'),
  noActionsByOthers: extensionUrl('no-actions-by-others'),
  pendingDecision: extensionUrl('pending-decision'),
  /** On an intervention (activity.detail): the ServiceRequest that records its municipal decision (beslut). */
  decision: extensionUrl('decision'),
  /** On a decision's ServiceRequest: the provision it was made under (SFS number, chapter, section, point). */
  statute: extensionUrl('statute'),
  canConsent: extensionUrl('can-consent'),
  planParty: extensionUrl('plan-party'),
  consentRecording: extensionUrl('consent-recording'),
  consentWithdrawal: extensionUrl('consent-withdrawal'),
  convener: extensionUrl('convener'),
  convenerContact: extensionUrl('convener-contact'),
  interpreter: extensionUrl('interpreter'),
  otherNeeds: extensionUrl('other-needs'),
  meetingRole: extensionUrl('meeting-role'),
  respondedAt: extensionUrl('responded-at'),
  substitute: extensionUrl('substitute'),
  goalSetAt: extensionUrl('goal-set-at'),
  /** HL7's R4 extension; written on the replaced goal with type `replacement`, target the new goal. */
  goalRelationship: 'http://hl7.org/fhir/StructureDefinition/goal-relationship',
  approvalWithdrawal: extensionUrl('approval-withdrawal'),
  reportedBy: extensionUrl('reported-by'),
  approvalDigest: extensionUrl('approval-digest'),
  childView: extensionUrl('child-view'),
  interimResponsiblePrincipal: extensionUrl('interim-responsible-principal'),
  /**
   * On a Goal, a CarePlan.activity (an intervention) and a DetectedIssue (a deviation): an
   * information class (sip-information-class) the item's words belong to, one extension per class,
   * so a consent that excludes the class removes the item before it is sent (seed 001 §4.2).
   */
  informationClass: extensionUrl('information-class'),
  /**
   * R5 `Appointment.virtualService`, a complex extension in R4 (hl7.fhir.uv.xver-r5.r4,
   * `StructureDefinition-ext-R5-Appointment.virtualService`): sub-extensions `_datatype` =
   * "VirtualServiceDetail", `channelType`, `address` (valueUrl) …
   */
  virtualService: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService',
  /** R5 `Appointment.note`: the meeting's notes (R4's `comment` carries the needs of the summons). */
  appointmentNote: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.note',
} as const;

/** Canonical URL of the SIP request form (seed 003) that `ownAccount` is written to. */
export const REQUEST_QUESTIONNAIRE_URL = `${CANONICAL_BASE}/Questionnaire/sip-request`;

/** URL of one of the project's own StructureDefinitions (profiles and extensions). */
export function structureDefinitionUrl(id: string): string {
  return `${CANONICAL_BASE}/StructureDefinition/${id}`;
}

/** URL of one of the project's own ValueSets; each has the id of the CodeSystem it holds all codes of. */
export function valueSetUrl(id: string): string {
  return `${CANONICAL_BASE}/ValueSet/${id}`;
}

/**
 * The project's SIP profiles (`profiles/StructureDefinition-<id>.json`, sources in
 * FHIR Shorthand in profiles/input/fsh/). The writer declares them in `meta.profile`.
 */
export const PROFILE = {
  bundle: structureDefinitionUrl('sip-bundle'),
  carePlan: structureDefinitionUrl('sip-careplan'),
  careTeam: structureDefinitionUrl('sip-careteam'),
  consent: structureDefinitionUrl('sip-consent'),
  appointment: structureDefinitionUrl('sip-appointment'),
  goal: structureDefinitionUrl('sip-goal'),
  decision: structureDefinitionUrl('sip-decision'),
  approvalTask: structureDefinitionUrl('sip-approval-task'),
  patient: structureDefinitionUrl('sip-patient'),
  organization: structureDefinitionUrl('sip-organization'),
  practitioner: structureDefinitionUrl('sip-practitioner'),
  practitionerRole: structureDefinitionUrl('sip-practitionerrole'),
  relatedPerson: structureDefinitionUrl('sip-relatedperson'),
} as const;

/** Canonical URL of a base FHIR R4 StructureDefinition (https://hl7.org/fhir/R4/structuredefinition.html). */
export function coreStructureDefinitionUrl(type: string): string {
  return `http://hl7.org/fhir/StructureDefinition/${type}`;
}
