/**
 * FHIR → the people and organisations of a SIP: Patient → the individual; Organization → principal,
 * unit or other actor; PractitionerRole (+ Practitioner) → professional; RelatedPerson → guardian,
 * relative or representative. Each becomes an entity with a local id before any reference is read.
 */
import type { Address, CareTeam, ContactPoint, HumanName, Organization, Patient, PractitionerRole, Reference, RelatedPerson } from 'fhir/r4.js';
import type { SipPlanInput } from '../../sip/index.js';
import { EXTENSION, HL7_SYSTEM, IDENTIFIER_SYSTEM } from '../canonical.js';
import { ORGANIZATION_TYPE, PARTICIPANT_ROLE, RELATED_PERSON_ROLE } from '../code-systems.js';
import { translateToOwn } from '../concept-maps.js';
import type { IndexedEntry } from './bundle-index.js';
import { identifiersOf } from './bundle-index.js';
import type { ReadContext } from './read-context.js';
import { extensionOf, partOf, partsOf } from './read-context.js';

type PrincipalInput = SipPlanInput['principals'][number];
type UnitInput = NonNullable<PrincipalInput['units']>[number];
type OtherActorInput = NonNullable<SipPlanInput['otherActors']>[number];
type ProfessionalInput = NonNullable<SipPlanInput['professionals']>[number];
type RelatedPersonInput = NonNullable<SipPlanInput['relatedPersons']>[number];
type ContactInput = NonNullable<ProfessionalInput['contact']>;
type PersonIdentifierInput = SipPlanInput['individual']['identifier'];

export interface Parties {
  readonly individual: SipPlanInput['individual'];
  readonly principals: PrincipalInput[];
  readonly otherActors: OtherActorInput[];
  readonly professionals: ProfessionalInput[];
  readonly relatedPersons: RelatedPersonInput[];
}

const OTHER_ACTOR_KINDS = new Set<string>(ORGANIZATION_TYPE.concepts.map((concept) => concept.code).filter((code) => !['region', 'municipality', 'unit'].includes(code)));

function valueOf(resource: IndexedEntry['resource'], ...systems: string[]): string | undefined {
  return identifiersOf(resource).find((identifier) => identifier.system !== undefined && systems.includes(identifier.system))?.value;
}

export function nameOf(names: readonly HumanName[] | undefined): { given: string; family: string } | undefined {
  const name = names?.find((candidate) => candidate.use === 'official') ?? names?.[0];
  const given = name?.given?.join(' ');
  if (name?.family === undefined || given === undefined || given === '') return undefined;
  return { given, family: name.family };
}

export function contactOf(telecom: readonly ContactPoint[] | undefined, addresses: readonly Address[] | undefined): ContactInput | undefined {
  const phone = telecom?.find((point) => point.system === 'phone')?.value;
  const email = telecom?.find((point) => point.system === 'email')?.value;
  const address = addresses?.[0];
  const postal =
    address?.line !== undefined && address.line.length > 0 && address.postalCode !== undefined && address.city !== undefined
      ? { line: address.line, postalCode: address.postalCode, city: address.city }
      : undefined;
  const contact = { ...(phone === undefined ? {} : { phone }), ...(email === undefined ? {} : { email }), ...(postal === undefined ? {} : { address: postal }) };
  return Object.keys(contact).length === 0 ? undefined : contact;
}

/** The person's identity number; a system other than personnummer/samordningsnummer is a reservnummer from that issuer. */
export function personIdentifierOf(resource: Patient | RelatedPerson): PersonIdentifierInput | undefined {
  const identifiers = identifiersOf(resource);
  const find = (system: string) => identifiers.find((identifier) => identifier.system === system)?.value;
  const personnummer = find(IDENTIFIER_SYSTEM.personnummer);
  if (personnummer !== undefined) return { system: 'personnummer', value: personnummer };
  const samordningsnummer = find(IDENTIFIER_SYSTEM.samordningsnummer);
  if (samordningsnummer !== undefined) return { system: 'samordningsnummer', value: samordningsnummer };
  const other = identifiers.find(
    (identifier) => identifier.system !== undefined && identifier.value !== undefined && identifier.system !== IDENTIFIER_SYSTEM.sipEntity,
  );
  return other?.system === undefined || other.value === undefined ? undefined : { system: 'reservnummer', value: other.value, issuer: other.system };
}

function readIndividual(context: ReadContext, entry: IndexedEntry & { resource: Patient }): SipPlanInput['individual'] {
  const patient = entry.resource;
  const security = patient.meta?.security ?? [];
  const label = security.find((coding) => coding.system === HL7_SYSTEM.seSecurityLabel)?.code;
  const protectedIdentity = label === 'skyddadFolkbokforing' ? 'protectedRegistration' : label === 'sekretessmarkering' ? 'confidentialityMarking' : 'none';
  const identifier = personIdentifierOf(patient);
  if (identifier === undefined) context.issue('error', 'required', `${entry.path}.identifier`, 'The Patient has no personnummer, samordningsnummer or reservnummer');
  const name = nameOf(patient.name);
  if (name === undefined) context.issue('error', 'required', `${entry.path}.name`, 'The Patient has no name with given and family parts');
  const contact = protectedIdentity === 'none' ? planContactOf(context, entry, patient.telecom, patient.address) : undefined;
  if (protectedIdentity !== 'none' && (patient.telecom !== undefined || patient.address !== undefined)) {
    context.issue('warning', 'security', `${entry.path}.telecom`, 'The Patient has protected identity; its address and telecom are not read into the plan');
  }
  const language = (patient.communication?.find((communication) => communication.preferred === true) ?? patient.communication?.[0])?.language.coding?.find(
    (coding) => coding.system === HL7_SYSTEM.bcp47,
  )?.code;
  // Earlier versions of the adapter wrote the assessment on the Patient itself.
  const canConsent = context.party(entry)?.canConsent ?? extensionOf(patient, EXTENSION.canConsent)?.valueBoolean;
  return {
    identifier: identifier ?? { system: 'reservnummer', value: '?', issuer: 'urn:oid:0' },
    name: name ?? { given: '?', family: '?' },
    ...(patient.birthDate === undefined ? {} : { birthDate: patient.birthDate }),
    ...(contact === undefined ? {} : { contact }),
    protectedIdentity,
    ...(canConsent === undefined ? {} : { canConsent }),
    ...(language === undefined ? {} : { language }),
  };
}

type OrganizationRole = { kind: 'principal'; principalKind: 'region' | 'municipality' } | { kind: 'unit'; principal: IndexedEntry } | { kind: 'otherActor'; actorKind: string };

function organizationRole(context: ReadContext, entry: IndexedEntry & { resource: Organization }, seen: readonly IndexedEntry[] = []): OrganizationRole {
  const organization = entry.resource;
  const code = seen.length > 0 ? translateToOwn(ORGANIZATION_TYPE, organization.type?.flatMap((type) => type.coding ?? [])) : context.ownCode(ORGANIZATION_TYPE, organization.type?.flatMap((type) => type.coding ?? []), `${entry.path}.type`);
  if (code === 'region' || code === 'municipality') return { kind: 'principal', principalKind: code };
  const parent = context.index.resolve(organization.partOf, entry);
  if (parent?.resource.resourceType === 'Organization' && !seen.includes(parent)) {
    const parentRole = organizationRole(context, parent as IndexedEntry & { resource: Organization }, [...seen, entry]);
    if (parentRole.kind === 'principal') return { kind: 'unit', principal: parent };
    if (parentRole.kind === 'unit') return parentRole;
  }
  if (code !== undefined && OTHER_ACTOR_KINDS.has(code)) return { kind: 'otherActor', actorKind: code };
  // Organisations from other writers: SCB's codes tell a municipality from a region.
  if (valueOf(organization, IDENTIFIER_SYSTEM.municipalityCode) !== undefined) return { kind: 'principal', principalKind: 'municipality' };
  if (valueOf(organization, IDENTIFIER_SYSTEM.countyCode) !== undefined) return { kind: 'principal', principalKind: 'region' };
  return { kind: 'otherActor', actorKind: 'other' };
}

function organizationFields(context: ReadContext, entry: IndexedEntry & { resource: Organization }): { id: string; name: string; hsaId?: string; organisationsnummer?: string } {
  const organization = entry.resource;
  if (organization.name === undefined) context.issue('error', 'required', `${entry.path}.name`, 'The Organization has no name');
  const hsaId = valueOf(organization, IDENTIFIER_SYSTEM.hsaId, IDENTIFIER_SYSTEM.hsaIdRivta);
  const organisationsnummer = valueOf(organization, IDENTIFIER_SYSTEM.organisationsnummer);
  return {
    id: context.localIdOf(entry),
    name: organization.name ?? '?',
    ...(hsaId === undefined ? {} : { hsaId }),
    ...(organisationsnummer === undefined ? {} : { organisationsnummer }),
  };
}

function readOrganizations(context: ReadContext): Pick<Parties, 'principals' | 'otherActors'> {
  const principals: { entry: IndexedEntry; principal: PrincipalInput & { units: UnitInput[] } }[] = [];
  const otherActors: { entry: IndexedEntry; actor: OtherActorInput }[] = [];
  const units: { principal: IndexedEntry; entry: IndexedEntry & { resource: Organization } }[] = [];
  for (const entry of context.index.ofType('Organization')) {
    const role = organizationRole(context, entry);
    const organization = entry.resource;
    const contact = planContactOf(context, entry, organization.telecom, organization.address);
    if (role.kind === 'principal') {
      const municipalityCode = valueOf(organization, IDENTIFIER_SYSTEM.municipalityCode);
      const countyCode = valueOf(organization, IDENTIFIER_SYSTEM.countyCode);
      principals.push({
        entry,
        principal: {
          ...organizationFields(context, entry),
          kind: role.principalKind,
          ...(municipalityCode === undefined ? {} : { municipalityCode }),
          ...(countyCode === undefined ? {} : { countyCode }),
          units: [],
        },
      });
    } else if (role.kind === 'unit') {
      units.push({ principal: role.principal, entry });
    } else {
      otherActors.push({
        entry,
        actor: { ...organizationFields(context, entry), kind: role.actorKind as OtherActorInput['kind'], ...(contact === undefined ? {} : { contact }) },
      });
    }
  }
  for (const { principal, entry } of context.inPlanOrder(units, (unit) => unit.entry)) {
    const owner = principals.find((candidate) => candidate.entry === principal);
    const fields = organizationFields(context, entry);
    const contact = planContactOf(context, entry, entry.resource.telecom, entry.resource.address);
    owner?.principal.units.push({ id: fields.id, name: fields.name, ...(fields.hsaId === undefined ? {} : { hsaId: fields.hsaId }), ...(contact === undefined ? {} : { contact }) });
  }
  return {
    principals: context.inPlanOrder(principals, (principal) => principal.entry).map(({ principal }) => principal),
    otherActors: context.inPlanOrder(otherActors, (actor) => actor.entry).map(({ actor }) => actor),
  };
}

function readProfessional(context: ReadContext, entry: IndexedEntry & { resource: PractitionerRole }): ProfessionalInput | undefined {
  const role = entry.resource;
  const practitionerEntry = context.index.resolve(role.practitioner, entry);
  const practitioner = practitionerEntry?.resource.resourceType === 'Practitioner' ? practitionerEntry.resource : undefined;
  const name = nameOf(practitioner?.name);
  if (name === undefined) {
    context.issue('error', 'required', `${entry.path}.practitioner`, 'The PractitionerRole names no Practitioner in the Bundle with a given and family name');
  }
  const organization = context.index.resolve(role.organization, entry);
  const organizationId = organization === undefined ? undefined : context.knownLocalId(organization);
  if (organizationId === undefined) {
    context.issue('error', 'required', `${entry.path}.organization`, 'The PractitionerRole acts for no Organization in the Bundle');
  }
  const hsaId =
    (practitioner === undefined ? undefined : valueOf(practitioner, IDENTIFIER_SYSTEM.hsaId, IDENTIFIER_SYSTEM.hsaIdRivta)) ??
    valueOf(role, IDENTIFIER_SYSTEM.hsaId, IDENTIFIER_SYSTEM.hsaIdRivta);
  const title = role.code?.[0]?.text ?? role.code?.[0]?.coding?.[0]?.display;
  const contact = planContactOf(context, entry, role.telecom, practitioner?.address);
  return {
    id: context.localIdOf(entry),
    name: name ?? { given: '?', family: '?' },
    ...(title === undefined ? {} : { title }),
    ...(hsaId === undefined ? {} : { hsaId }),
    organization: organizationId ?? '?',
    ...(contact === undefined ? {} : { contact }),
  };
}

function readRelatedPerson(context: ReadContext, entry: IndexedEntry & { resource: RelatedPerson }): RelatedPersonInput {
  const person = entry.resource;
  const codings = person.relationship?.flatMap((relationship) => relationship.coding ?? []) ?? [];
  // A relationship without a known code is a närstående (relative), reported as such.
  const role = context.ownCode(RELATED_PERSON_ROLE, codings, `${entry.path}.relationship`) ?? 'relative';
  const name = nameOf(person.name);
  if (name === undefined) context.issue('error', 'required', `${entry.path}.name`, 'The RelatedPerson has no name with given and family parts');
  const identifier = personIdentifierOf(person);
  const contact = planContactOf(context, entry, person.telecom, person.address);
  const base = {
    id: context.localIdOf(entry),
    name: name ?? { given: '?', family: '?' },
    ...(identifier === undefined ? {} : { identifier }),
    ...(contact === undefined ? {} : { contact }),
  };
  if (role === 'guardian') return { ...base, kind: 'guardian' };
  if (role === 'relative') {
    const relationship = person.relationship?.[0];
    return { ...base, kind: 'relative', relationship: relationship?.text ?? relationship?.coding?.[0]?.display ?? 'närstående' };
  }
  return { ...base, kind: 'representative', representativeKind: role as 'trustee' };
}

/**
 * Records what the plan's CareTeam says about each member (care-team.ts): its position (the plan's
 * order), its local id in this plan (`plan-party` extension, `<plan id>/<local id>`), the plan's
 * contact details for it and, for the person, whether they can consent. Run before any party is read,
 * so that nothing plan-specific is taken from a shared Patient, Organization or Practitioner.
 */
export function readCareTeamParties(context: ReadContext, careTeams: readonly (IndexedEntry & { resource: CareTeam })[], planId: string): void {
  let order = 0;
  for (const careTeam of careTeams) {
    for (const [i, participant] of (careTeam.resource.participant ?? []).entries()) {
      for (const [k, role] of (participant.role ?? []).entries()) context.ownCode(PARTICIPANT_ROLE, role.coding, `${careTeam.path}.participant[${String(i)}].role[${String(k)}]`);
      const member = context.index.resolve(participant.member, careTeam);
      const position = order++;
      const party = extensionOf(participant, EXTENSION.planParty);
      const scoped = partOf(party, 'localId')?.valueIdentifier;
      const localId =
        scoped?.system === IDENTIFIER_SYSTEM.sipEntity && scoped.value?.startsWith(`${planId}/`) === true ? scoped.value.slice(planId.length + 1) : undefined;
      if (member === undefined) {
        if (localId !== undefined && participant.member !== undefined) context.setAbsentMember(participant.member, localId);
        continue;
      }
      const canConsent = extensionOf(participant, EXTENSION.canConsent)?.valueBoolean;
      context.setParty(member, {
        order: position,
        ...(localId === undefined ? {} : { localId }),
        ...(party === undefined
          ? {}
          : {
              contact: {
                telecom: partsOf(party, 'telecom').flatMap((part) => (part.valueContactPoint === undefined ? [] : [part.valueContactPoint])),
                address: partsOf(party, 'address').flatMap((part) => (part.valueAddress === undefined ? [] : [part.valueAddress])),
              },
            }),
        ...(canConsent === undefined ? {} : { canConsent }),
      });
    }
  }
}

/**
 * The plan's contact details for a party: those its CareTeam participant records when the writer is
 * the adapter (possibly none), else what the resource itself carries (a Bundle from another writer).
 */
function planContactOf(context: ReadContext, entry: IndexedEntry, telecom: readonly ContactPoint[] | undefined, addresses: readonly Address[] | undefined): ContactInput | undefined {
  const recorded = context.party(entry)?.contact;
  return recorded === undefined ? contactOf(telecom, addresses) : contactOf(recorded.telecom, recorded.address);
}

/** Reads every party of the plan, giving each its local id; organisations first, since professionals refer to them. */
export function readParties(context: ReadContext, patient: IndexedEntry & { resource: Patient }): Parties {
  const individual = readIndividual(context, patient);
  const organizations = readOrganizations(context);
  const professionals = context
    .inPlanOrder(context.index.ofType('PractitionerRole'), (entry) => entry)
    .map((entry) => readProfessional(context, entry))
    .filter((professional) => professional !== undefined);
  const relatedPersons = context
    .inPlanOrder(context.index.ofType('RelatedPerson'), (entry) => entry)
    .filter((entry) => context.index.resolve(entry.resource.patient, entry) === patient)
    .map((entry) => readRelatedPerson(context, entry));
  return { individual, ...organizations, professionals, relatedPersons };
}

/**
 * The SIP party a reference names: `individual` for the plan's Patient, else the local id of the
 * Organization, PractitionerRole or RelatedPerson; a HealthcareService stands for the organisation
 * that provides it, a Practitioner for its (first) PractitionerRole.
 */
export function partyOf(context: ReadContext, reference: Reference | undefined, from: IndexedEntry, path: string): string | undefined {
  if (reference === undefined) return undefined;
  const target = context.index.resolve(reference, from);
  if (target === undefined) {
    const named = `"${reference.reference ?? reference.identifier?.value ?? ''}"${reference.display === undefined ? '' : ` (${reference.display})`}`;
    const kept = context.keptParty(reference);
    context.issue(
      'warning',
      'not-found',
      path,
      kept === undefined
        ? `The reference ${named} names nothing in the Bundle and carries too little to read the party from; it is left out`
        : `The reference ${named} names nothing in the Bundle; the organisation is read from the reference alone, as other actor "${kept}"`,
    );
    return kept;
  }
  if (target === context.patient) return 'individual';
  if (target.resource.resourceType === 'HealthcareService') return partyOf(context, target.resource.providedBy, target, path);
  if (target.resource.resourceType === 'Practitioner') {
    const role = context.index
      .ofType('PractitionerRole')
      .find((candidate) => context.index.resolve(candidate.resource.practitioner, candidate) === target);
    if (role !== undefined) return context.knownLocalId(role);
  }
  const id = context.knownLocalId(target);
  if (id === undefined) context.issue('error', 'not-supported', path, `A ${target.resource.resourceType} cannot take part in a SIP here`);
  return id;
}
