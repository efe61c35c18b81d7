/**
 * Patient, Organization, Practitioner, PractitionerRole and RelatedPerson as a SIP writes them,
 * aligned with HL7 Sweden's base profiles (basprofiler-r4, `input/fsh/profiles/`): the same
 * identifier slices (discriminated by `system`, open) with the same systems and slice names. They
 * derive from the R4 core definitions, not from HL7 Sweden's, because those have no published
 * package this build can read; the slices are what a SE base validator checks too.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import { HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import { ORGANIZATION_TYPE, RELATED_PERSON_ROLE } from '../code-systems.js';
import type { Invariant } from './define.js';
import { bindingTo, element, profile, slicedByValue } from './define.js';

/** An identifier slice `<path>:<name>` with a fixed system (and a v2-0203 type, as SEBaseOrganization has). */
function identifierSlice(path: string, name: string, system: string, short: string, v2Type?: string) {
  return [
    element(`${path}:${name}`, { short, min: 0, max: '1' }),
    ...(v2Type === undefined ? [] : [element(`${path}:${name}.type`, { patternCodeableConcept: { coding: [{ system: HL7_SYSTEM.v2IdentifierType, code: v2Type }] } })]),
    element(`${path}:${name}.system`, { min: 1, fixedUri: system }),
    element(`${path}:${name}.value`, { min: 1 }),
  ];
}

function personIdentifierSlices(path: string) {
  return [
    element(path, slicedByValue('system', 'Swedish person identifiers (as SEBasePatient)')),
    ...identifierSlice(path, 'personnummer', IDENTIFIER_SYSTEM.personnummer, 'Personnummer'),
    ...identifierSlice(path, 'samordningsnummer', IDENTIFIER_SYSTEM.samordningsnummer, 'Samordningsnummer'),
    ...identifierSlice(path, 'nationelltReservnummer', IDENTIFIER_SYSTEM.nationalReservnummer, 'Nationellt reservnummer'),
  ];
}

const PROTECTED = 'DESIGN.md §4 (protected identity); HL7 Sweden sekretess.fsh';

export const PATIENT_INVARIANTS: readonly Invariant[] = [
  {
    key: 'sip-pat-1',
    severity: 'error',
    human: 'The person of a SIP is identified (an identifier with system and value)',
    expression: 'identifier.where(system.exists() and value.exists()).exists()',
    source: 'Seed 001 §4.4 ("Vem kallelsen avser, dvs. den enskildes uppgifter")',
  },
  {
    key: 'sip-pat-2',
    severity: 'error',
    human: 'A person with protected identity (skyddadFolkbokforing or sekretessmarkering) has no address or telecom',
    expression: `meta.security.where(system = '${HL7_SYSTEM.seSecurityLabel}').exists() implies (address.empty() and telecom.empty())`,
    source: PROTECTED,
  },
];

export const SIP_PATIENT: StructureDefinition = profile({
  id: 'sip-patient',
  type: 'Patient',
  title: 'SIP Patient',
  description: 'The person a SIP is for, identified as in HL7 Sweden\'s SEBasePatient (personnummer, samordningsnummer, nationellt reservnummer).',
  invariants: PATIENT_INVARIANTS,
  elements: [
    ...personIdentifierSlices('Patient.identifier').map((item) => (item.id === 'Patient.identifier' ? { ...item, min: 1 } : item)),
  ],
});

function organizationIdentifierSlices(path: string) {
  return [
    element(path, { ...slicedByValue('system', 'Swedish organisation identifiers (as SEBaseOrganization)'), min: 1 }),
    ...identifierSlice(path, 'hsaid', IDENTIFIER_SYSTEM.hsaId, 'HSA-id', 'PRN'),
    // `XX` if a type is given, as SEBaseOrganization; the adapter writes none (write/organization.ts).
    ...identifierSlice(path, 'organizationIdentifier', IDENTIFIER_SYSTEM.organisationsnummer, 'Organisationsnummer', 'XX'),
  ];
}

export const SIP_ORGANIZATION: StructureDefinition = profile({
  id: 'sip-organization',
  type: 'Organization',
  title: 'SIP Organization',
  description: "A principal (kommun or region), one of its units, or an other actor of a SIP, identified as in HL7 Sweden's SEBaseOrganization (HSA-id, organisationsnummer).",
  elements: [
    ...organizationIdentifierSlices('Organization.identifier'),
    element('Organization.type', { min: 1, binding: bindingTo(ORGANIZATION_TYPE, 'extensible', 'Principal, unit or other actor') }),
    element('Organization.name', { min: 1 }),
  ],
});

export const SIP_PRACTITIONER: StructureDefinition = profile({
  id: 'sip-practitioner',
  type: 'Practitioner',
  title: 'SIP Practitioner',
  description: "A professional taking part in a SIP, identified by HSA-id when known, as in HL7 Sweden's SEBasePractitioner.",
  elements: [
    element('Practitioner.identifier', { ...slicedByValue('system', 'Swedish practitioner identifiers (as SEBasePractitioner)'), min: 1 }),
    ...identifierSlice('Practitioner.identifier', 'hsaid', IDENTIFIER_SYSTEM.hsaId, 'HSA-id'),
    element('Practitioner.name', { min: 1 }),
  ],
});

export const SIP_PRACTITIONER_ROLE: StructureDefinition = profile({
  id: 'sip-practitionerrole',
  type: 'PractitionerRole',
  title: 'SIP PractitionerRole',
  description: 'A professional acting for one organisation (principal, unit or other actor) in a SIP.',
  elements: [element('PractitionerRole.practitioner', { min: 1 }), element('PractitionerRole.organization', { min: 1 })],
});

export const SIP_RELATED_PERSON: StructureDefinition = profile({
  id: 'sip-relatedperson',
  type: 'RelatedPerson',
  title: 'SIP RelatedPerson',
  description: 'A relative, custodial guardian or representative (god man, förvaltare, framtidsfullmaktshavare, personligt ombud) of the person (seed 001 §4.2, §6.6; seed 004).',
  elements: [
    ...personIdentifierSlices('RelatedPerson.identifier'),
    element('RelatedPerson.relationship', { min: 1, binding: bindingTo(RELATED_PERSON_ROLE, 'extensible', 'Guardian, relative or representative') }),
    element('RelatedPerson.name', { min: 1 }),
  ],
});
