/**
 * Den enskilde → `Patient` on HL7 Sweden's SEBasePatient
 * (http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient).
 *
 * Protected identity (skyddade personuppgifter) is marked in `meta.security` with HL7 Sweden's
 * security labels (basprofiler-r4 `sekretess.fsh`) and v3 `DEMO`.
 *
 * The Patient is shared master data: it is created if no Patient with the identity number exists and
 * never updated, so it carries only who the person is. The plan's contact details for the person and
 * whether they can consent are on their CareTeam participant (care-team.ts), and never leave at all
 * for a person with protected identity.
 */
import type { Coding, Identifier, Patient } from 'fhir/r4.js';
import type { PersonIdentifier, ProtectedIdentity } from '../../sip/index.js';
import { formatDate, parseIdentityNumber } from '../../sip/index.js';
import { HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import type { WriteContext } from './context.js';
import { compact } from './context.js';
import { generatedText, patientNarrative } from './resource-narratives.js';

export function personIdentifier(identifier: PersonIdentifier): Identifier & { system: string; value: string } {
  switch (identifier.system) {
    case 'personnummer':
      return { system: IDENTIFIER_SYSTEM.personnummer, value: identifier.value };
    case 'samordningsnummer':
      return { system: IDENTIFIER_SYSTEM.samordningsnummer, value: identifier.value };
    case 'reservnummer':
      return { system: identifier.issuer, value: identifier.value };
  }
}

const SECURITY_LABEL: Readonly<Record<Exclude<ProtectedIdentity, 'none'>, Coding>> = {
  confidentialityMarking: {
    system: HL7_SYSTEM.seSecurityLabel,
    code: 'sekretessmarkering',
    display: 'Protected demographic information according to 22 kap. 1 § OSL',
  },
  protectedRegistration: {
    system: HL7_SYSTEM.seSecurityLabel,
    code: 'skyddadFolkbokforing',
    display: 'Protected demographic information according to Skatteverket',
  },
};

/** v3 ActCode `DEMO`: "all demographic information … is sensitive", sent beside the Swedish label. */
const DEMOGRAPHIC_SENSITIVITY: Coding = {
  system: HL7_SYSTEM.v3ActCode,
  code: 'DEMO',
  display: 'all demographic information sensitivity',
};

/** The person's birth date: as stated, or read from a personnummer or samordningsnummer. */
export function birthDateOf(identifier: PersonIdentifier, stated: string | undefined): string | undefined {
  if (stated !== undefined || identifier.system === 'reservnummer') return stated;
  const parsed = parseIdentityNumber(identifier.value);
  return parsed.ok ? formatDate(parsed.birthDate) : undefined;
}

export function toPatient(context: WriteContext): Patient {
  const { plan } = context;
  const { individual } = plan;
  const label = individual.protectedIdentity === 'none' ? undefined : SECURITY_LABEL[individual.protectedIdentity];
  return compact<Patient>({
    resourceType: 'Patient',
    meta: label === undefined ? undefined : { security: [label, DEMOGRAPHIC_SENSITIVITY] },
    text: generatedText(patientNarrative(context)),
    identifier: [personIdentifier(individual.identifier)],
    name: [{ family: individual.name.family, given: [individual.name.given] }],
    birthDate: birthDateOf(individual.identifier, individual.birthDate),
    communication:
      individual.language === undefined
        ? undefined
        : [{ language: { coding: [{ system: HL7_SYSTEM.bcp47, code: individual.language }] }, preferred: true }],
  });
}
