/**
 * Professionals → `Practitioner` (the person, keyed by HSA-id when known) and `PractitionerRole` (the
 * person acting for one organisation in this SIP); närstående, vårdnadshavare and företrädare →
 * `RelatedPerson`, with HL7 v3 RoleCode beside the project's own code where one matches.
 */
import type { Practitioner, PractitionerRole, RelatedPerson as FhirRelatedPerson } from 'fhir/r4.js';
import type { Professional, RelatedPerson } from '../../sip/index.js';
import { RELATED_PERSON_ROLE, ownCoding } from '../code-systems.js';
import { equivalentStandardCodings } from '../concept-maps.js';
import type { WriteContext } from './context.js';
import { INDIVIDUAL, addressOf, compact, entityIdentifier, keyReference, referenceTo, telecomOf } from './context.js';
import { hsaIdentifier, sharedIdentifiers } from './organization.js';
import { personIdentifier } from './patient.js';
import { generatedText, practitionerNarrative, practitionerRoleNarrative, relatedPersonNarrative } from './resource-narratives.js';

/**
 * The person as shared master data: HSA-id and name. The plan's contact details for them are on the
 * PractitionerRole (telecom) and on their CareTeam participant (telecom and work address; R4's
 * PractitionerRole has no address).
 */
export function toPractitioner(context: WriteContext, professional: Professional): Practitioner {
  return compact<Practitioner>({
    resourceType: 'Practitioner',
    text: generatedText(practitionerNarrative(professional)),
    identifier: sharedIdentifiers(context.keys.get('Practitioner', professional.id), professional.hsaId === undefined ? [] : [hsaIdentifier(professional.hsaId)]),
    name: [{ family: professional.name.family, given: [professional.name.given] }],
  });
}

export function toPractitionerRole(context: WriteContext, professional: Professional): PractitionerRole {
  return compact<PractitionerRole>({
    resourceType: 'PractitionerRole',
    text: generatedText(practitionerRoleNarrative(context.plan, professional)),
    identifier: [entityIdentifier(context.plan, professional.id)],
    active: true,
    practitioner: keyReference(context, context.keys.get('Practitioner', professional.id), `${professional.name.given} ${professional.name.family}`),
    organization: referenceTo(context, professional.organization),
    code: professional.title === undefined ? undefined : [{ text: professional.title }],
    telecom: telecomOf(professional.contact),
  });
}

export function relatedPersonRoleCode(person: RelatedPerson): string {
  return person.kind === 'representative' ? person.representativeKind : person.kind;
}

export function toRelatedPerson(context: WriteContext, person: RelatedPerson): FhirRelatedPerson {
  const role = relatedPersonRoleCode(person);
  return compact<FhirRelatedPerson>({
    resourceType: 'RelatedPerson',
    text: generatedText(relatedPersonNarrative(context.plan, person)),
    identifier: [
      entityIdentifier(context.plan, person.id),
      ...(person.identifier === undefined ? [] : [personIdentifier(person.identifier)]),
    ],
    active: true,
    patient: referenceTo(context, INDIVIDUAL),
    relationship: [
      compact({
        coding: [ownCoding(RELATED_PERSON_ROLE, role), ...equivalentStandardCodings(RELATED_PERSON_ROLE, role)],
        text: person.kind === 'relative' ? person.relationship : undefined,
      }),
    ],
    name: [{ family: person.name.family, given: [person.name.given] }],
    telecom: telecomOf(person.contact),
    // A relative of a person with protected identity often shares the address that is protected.
    address: context.protectedIdentity ? undefined : [addressOf(person.contact)].filter((address) => address !== undefined),
  });
}
