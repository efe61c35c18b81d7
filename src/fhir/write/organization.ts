/**
 * Principals (huvudmän), their units and other actors → `Organization`; an organisation invited to a
 * meeting also gets a `HealthcareService`, because R4 does not allow an Organization as an
 * Appointment participant (https://hl7.org/fhir/R4/appointment-definitions.html#Appointment.participant.actor).
 *
 * Identifiers follow HL7 Sweden's SEBaseOrganization: HSA-id (`urn:oid:1.2.752.29.4.19`, type PRN)
 * and organisationsnummer (`urn:oid:2.5.4.97`); SCB's kommunkod and länskod by their OIDs.
 *
 * The organisationsnummer goes without `type`. SEBaseOrganization fixes it to v2-0203 `XX`
 * ("Organization identifier") only when present, and `XX` is not in R4's extensible
 * identifier-type ValueSet, which has no code for a legal entity's registration number (`TAX` is a
 * tax number, `PRN` a provider number; neither is what an organisationsnummer is). The system
 * already says what the identifier is, so leaving the type out is both correct and free of warnings.
 */
import type { HealthcareService, Identifier, Organization, Reference } from 'fhir/r4.js';
import type { OtherActor, Principal, Unit } from '../../sip/index.js';
import { HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import { ORGANIZATION_TYPE, ownCoding } from '../code-systems.js';
import type { ResourceKey, WriteContext } from './context.js';
import { compact, entityIdentifier, keyReference } from './context.js';
import { generatedText, healthcareServiceNarrative, otherActorNarrative, principalNarrative, unitNarrative } from './resource-narratives.js';

type NationalIdentifier = ResourceKey['identifier'];

export function hsaIdentifier(value: string): NationalIdentifier {
  return { system: IDENTIFIER_SYSTEM.hsaId, value };
}

/** The national identifiers of an organisation, most specific first (they key conditional creates). */
export function nationalOrganizationIdentifiers(organization: Principal | Unit | OtherActor): NationalIdentifier[] {
  const identifiers: NationalIdentifier[] = [];
  if (organization.hsaId !== undefined) identifiers.push(hsaIdentifier(organization.hsaId));
  if ('organisationsnummer' in organization && organization.organisationsnummer !== undefined) {
    identifiers.push({ system: IDENTIFIER_SYSTEM.organisationsnummer, value: organization.organisationsnummer });
  }
  if ('kind' in organization && organization.kind === 'municipality' && organization.municipalityCode !== undefined) {
    identifiers.push({ system: IDENTIFIER_SYSTEM.municipalityCode, value: organization.municipalityCode });
  }
  if ('kind' in organization && organization.kind === 'region' && organization.countyCode !== undefined) {
    identifiers.push({ system: IDENTIFIER_SYSTEM.countyCode, value: organization.countyCode });
  }
  return identifiers;
}

function typed(identifier: NationalIdentifier): Identifier {
  return identifier.system === IDENTIFIER_SYSTEM.hsaId ? { type: { coding: [{ system: HL7_SYSTEM.v2IdentifierType, code: 'PRN' }] }, ...identifier } : identifier;
}

/**
 * The identifiers a shared resource carries: its national identifiers, and the plan-scoped one only
 * when that is its key (it has no national identifier of its own), since the key is what a server
 * finds it by. A plan-scoped identifier on an organisation another plan also names would be one
 * plan's data on a record the first writer owns.
 */
export function sharedIdentifiers(key: ResourceKey, national: readonly Identifier[]): Identifier[] {
  const keyIsNational = national.some((identifier) => identifier.system === key.identifier.system && identifier.value === key.identifier.value);
  return keyIsNational ? [...national] : [key.identifier, ...national];
}

/**
 * An organisation as shared master data: national identifiers, name, type and place in its
 * principal. The plan's contact details for it are on its CareTeam participant (care-team.ts).
 */
function organization(context: WriteContext, entity: Principal | Unit | OtherActor, typeCode: string, partOf: Reference | undefined, narrative: string): Organization {
  return compact<Organization>({
    resourceType: 'Organization',
    text: generatedText(narrative),
    identifier: sharedIdentifiers(context.keys.get('Organization', entity.id), nationalOrganizationIdentifiers(entity).map(typed)),
    active: true,
    type: [{ coding: [ownCoding(ORGANIZATION_TYPE, typeCode)] }],
    name: entity.name,
    partOf,
  });
}

export function toPrincipalOrganization(context: WriteContext, principal: Principal): Organization {
  return organization(context, principal, principal.kind, undefined, principalNarrative(principal));
}

export function toUnitOrganization(context: WriteContext, principal: Principal, unit: Unit): Organization {
  const partOf = keyReference(context, context.keys.get('Organization', principal.id), principal.name);
  return organization(context, unit, 'unit', partOf, unitNarrative(principal, unit));
}

export function toOtherActorOrganization(context: WriteContext, actor: OtherActor): Organization {
  return organization(context, actor, actor.kind, undefined, otherActorNarrative(actor));
}

/** The service an invited organisation provides in the SIP, so it can take part in an Appointment. */
export function toHealthcareService(context: WriteContext, organizationId: string, name: string): HealthcareService {
  return {
    resourceType: 'HealthcareService',
    text: generatedText(healthcareServiceNarrative(name)),
    identifier: [entityIdentifier(context.plan, `${organizationId}.service`)],
    active: true,
    providedBy: keyReference(context, context.keys.get('Organization', organizationId), name),
    name,
  };
}
