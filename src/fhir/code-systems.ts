/**
 * The project's own code systems: SIP concepts that have no national code (DESIGN.md §4). Each
 * concept's code is the SIP model's own value, so mapping is the identity; the Swedish designation
 * is what the narrative and people read.
 *
 * They are written in FHIR Shorthand (`profiles/input/fsh/code-systems.fsh`) and built by SUSHI into
 * `profiles/CodeSystem-*.json` (`npm run profiles:build`); this module reads the built files, so the
 * mapping uses exactly the codes, displays and designations that are shipped. A test fails when a
 * code system and the SIP enum it mirrors drift apart (test/fhir/code-systems.test.ts). National
 * codes (KVÅ, SNOMED CT) are not invented here: they are configuration (see {@link FhirMappingOptions}).
 */
import { readFileSync } from 'node:fs';
import type { CodeSystem, Coding } from 'fhir/r4.js';
import { codeSystemUrl } from './canonical.js';

export interface ConceptDefinition {
  readonly code: string;
  /** English display. */
  readonly display: string;
  /** Swedish designation, for narrative and people. */
  readonly sv: string;
}

export interface CodeSystemDefinition {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly concepts: readonly ConceptDefinition[];
}

/** One of the project's CodeSystems, from `profiles/` (from `src/fhir` and `dist/fhir` alike). */
function shipped(id: string): CodeSystemDefinition {
  const resource = JSON.parse(readFileSync(new URL(`../../profiles/CodeSystem-${id}.json`, import.meta.url), 'utf8')) as CodeSystem;
  if (resource.url !== codeSystemUrl(id)) throw new Error(`profiles/CodeSystem-${id}.json is not ${codeSystemUrl(id)}`);
  return {
    id,
    title: resource.title ?? id,
    description: resource.description ?? '',
    concepts: (resource.concept ?? []).map((concept) => ({
      code: concept.code,
      display: concept.display ?? concept.code,
      sv: concept.designation?.find((designation) => designation.language === 'sv')?.value ?? concept.display ?? concept.code,
    })),
  };
}

export const SIP_CATEGORY = shipped('sip-category');
export const ORGANIZATION_TYPE = shipped('sip-organization-type');
export const PARTICIPANT_ROLE = shipped('sip-participant-role');
export const RELATED_PERSON_ROLE = shipped('sip-related-person-role');
export const INFORMATION_CLASS = shipped('sip-information-class');
export const CONSENT_FORM = shipped('sip-consent-form');
export const MEETING_KIND = shipped('sip-meeting-kind');
export const CLOSURE_REASON = shipped('sip-closure-reason');
export const DEVIATION_CATEGORY = shipped('sip-deviation-category');
export const APPROVAL_WITHDRAWAL_REASON = shipped('sip-approval-withdrawal-reason');
export const INTERVENTION_STATUS_REASON = shipped('sip-intervention-status-reason');
export const INPATIENT_CARE = shipped('sip-inpatient-care');
/**
 * The two laws on compulsory psychiatric care, by their Swedish abbreviations: the person continues
 * in compulsory care outside hospital after discharge, where the law prescribes a samordnad
 * vårdplan instead of a SIP (seed 001 §3.6.1). No published code system names these (2026).
 */
export const COMPULSORY_CARE = shipped('sip-compulsory-care');

/** Every code system of the project. */
export const CODE_SYSTEMS: readonly CodeSystemDefinition[] = [
  SIP_CATEGORY,
  ORGANIZATION_TYPE,
  PARTICIPANT_ROLE,
  RELATED_PERSON_ROLE,
  INFORMATION_CLASS,
  CONSENT_FORM,
  MEETING_KIND,
  CLOSURE_REASON,
  DEVIATION_CATEGORY,
  APPROVAL_WITHDRAWAL_REASON,
  INTERVENTION_STATUS_REASON,
  INPATIENT_CARE,
  COMPULSORY_CARE,
];

/** A Coding of one of the project's code systems, with its English display. */
export function ownCoding(system: CodeSystemDefinition, code: string): Coding {
  const concept = system.concepts.find((candidate) => candidate.code === code);
  if (concept === undefined) throw new Error(`${code} is not a code of ${system.id}`);
  return { system: codeSystemUrl(system.id), code, display: concept.display };
}

/** The Swedish designation of a code, for the narrative. */
export function swedishDisplay(system: CodeSystemDefinition, code: string): string {
  return system.concepts.find((candidate) => candidate.code === code)?.sv ?? code;
}

/** The code of `system` among codings (missing ones allowed, as read from optional elements), if one is there. */
export function findOwnCode(system: CodeSystemDefinition, codings: readonly (Coding | undefined)[] | undefined): string | undefined {
  const url = codeSystemUrl(system.id);
  return codings?.find((coding) => coding?.system === url && coding.code !== undefined)?.code;
}
