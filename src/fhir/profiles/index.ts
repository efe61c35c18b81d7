/**
 * The SIP profile each written resource type declares. The profiles themselves are written in FHIR
 * Shorthand (`profiles/input/fsh/`) and built by SUSHI into `profiles/StructureDefinition-*.json`;
 * test/fhir/code-systems.test.ts checks this table against the built files.
 */
import { PROFILE } from '../canonical.js';

/** The profile the writer declares for a resource type, if there is one (the approval Task's for Task). */
export const PROFILE_OF_TYPE: Readonly<Partial<Record<string, string>>> = {
  CarePlan: PROFILE.carePlan,
  CareTeam: PROFILE.careTeam,
  Goal: PROFILE.goal,
  Consent: PROFILE.consent,
  Appointment: PROFILE.appointment,
  Task: PROFILE.approvalTask,
  ServiceRequest: PROFILE.decision,
  Patient: PROFILE.patient,
  Organization: PROFILE.organization,
  Practitioner: PROFILE.practitioner,
  PractitionerRole: PROFILE.practitionerRole,
  RelatedPerson: PROFILE.relatedPerson,
  Bundle: PROFILE.bundle,
};
