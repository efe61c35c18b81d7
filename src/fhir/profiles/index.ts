/**
 * The project's profiles, extensions and value sets as data: StructureDefinitions with
 * differentials only. `npm run profiles:build` writes them into `profiles/` with generated
 * snapshots (src/validation/snapshot.ts).
 */
import type { StructureDefinition, ValueSet } from 'fhir/r4.js';
import { SIP_APPOINTMENT } from './appointment.js';
import { SIP_APPROVAL_TASK } from './approval-task.js';
import { SIP_BUNDLE } from './bundle.js';
import { SIP_CARE_PLAN } from './care-plan.js';
import { SIP_CARE_TEAM } from './care-team.js';
import { SIP_CONSENT } from './consent.js';
import { SIP_DECISION } from './decision.js';
import { EXTENSION_DEFINITIONS } from './extensions.js';
import { SIP_GOAL } from './goal.js';
import { SIP_ORGANIZATION, SIP_PATIENT, SIP_PRACTITIONER, SIP_PRACTITIONER_ROLE, SIP_RELATED_PERSON } from './swedish-base.js';
import { VALUE_SETS } from './value-sets.js';

export type { Invariant } from './define.js';

/** The resource profiles, the Bundle's last. */
export const RESOURCE_PROFILES: readonly StructureDefinition[] = [
  SIP_CARE_PLAN,
  SIP_CARE_TEAM,
  SIP_GOAL,
  SIP_CONSENT,
  SIP_APPOINTMENT,
  SIP_APPROVAL_TASK,
  SIP_DECISION,
  SIP_PATIENT,
  SIP_ORGANIZATION,
  SIP_PRACTITIONER,
  SIP_PRACTITIONER_ROLE,
  SIP_RELATED_PERSON,
  SIP_BUNDLE,
];

/** Every StructureDefinition of the project: extensions first (profiles refer to them), then the profiles. */
export const STRUCTURE_DEFINITIONS: readonly StructureDefinition[] = [...EXTENSION_DEFINITIONS, ...RESOURCE_PROFILES];

export const PROFILE_VALUE_SETS: readonly ValueSet[] = VALUE_SETS;

/** The profile the writer declares for a resource type, if there is one (the approval Task's for Task). */
export const PROFILE_OF_TYPE: Readonly<Partial<Record<string, string>>> = Object.fromEntries(
  RESOURCE_PROFILES.map((definition) => [definition.type, definition.url]),
);
